// styling_test.js: table checks of styling.js (XEP-0393 message styling)
// and files.js, run by TestBrowserStyling in a page with no other module.
// A styled message is compared as its HTML with the muted directives left
// out (the serialisation is only read here, never built from text), and
// every case also checks that the text shown is exactly the text sent.

import { check, finish } from './check.js';
import { styled, MAX_DEPTH } from '/styling.js';
import { fileOf, nameOf } from '/files.js';

// html draws text styled and answers its markup without the directives.
function html(text) {
  const div = document.createElement('div');
  div.append(styled(text));
  check(`the text of ${JSON.stringify(text.slice(0, 40))} is kept`, div.textContent, text);
  return div.innerHTML.replace(/<span class="sd">[^<]*<\/span>/g, '')
    .replace(/ class="styled-(pre|quote)"/g, '');
}

const CASES = [
  ['plain', 'hello world', 'hello world'],
  ['strong', '*bold* text', '<strong>bold</strong> text'],
  ['emphasis', 'an _emphasised_ word', 'an <em>emphasised</em> word'],
  ['strike', '~gone~', '<s>gone</s>'],
  ['code span', 'run `ls -l` now', 'run <code>ls -l</code> now'],
  ['code is literal', '`*not bold*`', '<code>*not bold*</code>'],
  ['nested', '*_both_*', '<strong><em>both</em></strong>'],
  ['two spans', '*a* and *b*', '<strong>a</strong> and <strong>b</strong>'],
  ['opener followed by space', '* not bold*', '* not bold*'],
  ['closer after space', '*not bold *', '*not bold *'],
  ['inside a word', 'a*b*c', 'a*b*c'],
  ['empty span', '** nothing', '** nothing'],
  ['unbalanced', '*open _and ~never `closed', '*open _and ~never `closed'],
  ['spans stay in their line', '*one\ntwo*', '*one\ntwo*'],
  ['quote', '> quoted\nreply', '<blockquote>quoted\n</blockquote>reply'],
  ['quote without space', '>tight', '<blockquote>tight</blockquote>'],
  ['quote styled', '> *x*', '<blockquote><strong>x</strong></blockquote>'],
  ['nested quote', '> > deep', '<blockquote><blockquote>deep</blockquote></blockquote>'],
  ['pre block', '```\n*raw*\n```\nafter', '<pre>\n*raw*\n\n</pre>after'],
  ['pre block to the end', '```js\nlet a = `b`', '<pre>\nlet a = `b`</pre>'],
  // A fence only opens a block at a line's start; in a line the nearest
  // closer wins (the first two backticks make a span of one).
  ['a fence inside a line is spans', 'say ```x```', 'say <code>`</code>x```'],
  ['HTML is text', '<img src=x onerror="window.pwned=1"><b>b</b>', '&lt;img src=x onerror="window.pwned=1"&gt;&lt;b&gt;b&lt;/b&gt;'],
  ['HTML in a span is text', '*<script>window.pwned=1</script>*', '<strong>&lt;script&gt;window.pwned=1&lt;/script&gt;</strong>'],
  ['HTML in a pre is text', '```\n<i>x</i>\n```', '<pre>\n&lt;i&gt;x&lt;/i&gt;\n</pre>'],
  ['entities are text', '&amp; &lt;', '&amp;amp; &amp;lt;'],
];

async function run() {
  for (const [name, text, want] of CASES) check(name, html(text), want);

  // Nothing but the module's own elements, whatever the text.
  const div = document.createElement('div');
  div.append(styled('<a href="javascript:alert(1)">x</a> *<svg onload=alert(1)>* > `<iframe>`'));
  check('only styling elements', [...div.querySelectorAll('*')].every((e) => ['SPAN', 'STRONG', 'EM', 'S', 'CODE', 'PRE', 'BLOCKQUOTE'].includes(e.tagName)), true);
  check('no handler ran', window.pwned, undefined);

  // Quotes nest only so deep; deeper marks are text.
  const deep = '>'.repeat(MAX_DEPTH + 5) + ' bottom';
  const d = document.createElement('div');
  d.append(styled(deep));
  check('quotes nest at most MAX_DEPTH', d.querySelectorAll('blockquote').length, MAX_DEPTH);
  check('a deep quote keeps its text', d.textContent, deep);

  // Long hostile text is cheap: 64 KiB of openers that never close, and
  // of spans, each drawn in seconds at worst on a busy machine (a
  // quadratic search for closers would take far longer: 20,000 openers
  // each scanning 64 KiB).
  for (const [name, text] of [
    ['unbalanced markers', '*a _b ~c `d '.repeat(5958).slice(0, 65536)],
    ['many spans', '*a* _b_ ~c~ '.repeat(5461).slice(0, 65536)],
    ['one long word', 'x'.repeat(65536)],
    ['many lines of quotes', '> > q\n'.repeat(10922)],
  ]) {
    const t0 = performance.now();
    const el = document.createElement('div');
    el.append(styled(text));
    const ms = performance.now() - t0;
    // A bound for a runaway, not a speed target: journeys run in parallel
    // under the race detector, and 3 s was seen taken by 7.6 s there.
    check(`${name}: drawn in under 20 s`, ms < 20000 ? 'fast' : `${Math.round(ms)} ms`, 'fast');
    check(`${name}: its text is kept`, el.textContent === text, true);
  }

  // A URL in styled text is handed to addText (the view's links), not in code.
  const seen = [];
  styled('*see http://a.example/x* `http://b.example/`', (p, s) => { seen.push(s); p.append(s); });
  check('addText gets the plain text', seen, ['see http://a.example/x', ' ']);

  // files.js: which messages are files.
  const FILES = [
    ['an image URL', { body: 'https://up.example/abc/cat.JPG' }, { url: 'https://up.example/abc/cat.JPG', name: 'cat.JPG', desc: '', image: true }],
    ['a file URL', { body: ' http://up.example/x/report%20v2.pdf ' }, { url: 'http://up.example/x/report%20v2.pdf', name: 'report v2.pdf', desc: '', image: false }],
    ['a page', { body: 'https://example.org/about.html' }, null],
    ['a site', { body: 'https://example.org' }, null],
    ['a path without extension', { body: 'https://example.org/docs/intro' }, null],
    ['text and a URL', { body: 'look https://up.example/cat.png' }, null],
    ['another scheme', { body: 'javascript:alert(1)//x.png' }, null],
    ['an OOB file', { body: 'here', file: { url: 'https://up.example/f', desc: 'the file' } }, { url: 'https://up.example/f', name: 'f', desc: 'the file', image: false }],
    ['an OOB image', { body: '', file: { url: 'https://up.example/a/b.webp' } }, { url: 'https://up.example/a/b.webp', name: 'b.webp', desc: '', image: true }],
    ['an OOB file of another scheme', { body: '', file: { url: 'data:text/html,<b>x</b>' } }, null],
    ['a bad escape', { body: 'https://up.example/%E0%A4%A.png' }, { url: 'https://up.example/%E0%A4%A.png', name: '%E0%A4%A.png', desc: '', image: true }],
  ];
  for (const [name, m, want] of FILES) check('file: ' + name, fileOf(m), want);
  check('nameOf a host', nameOf('https://example.org/'), 'example.org');
}

finish(run);
