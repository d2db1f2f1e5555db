// styling.js: message styling (XEP-0393) drawn as DOM nodes. A message's
// text is read, never trusted: every piece of it becomes a text node (or
// goes through the caller's addText, which must do the same), inside
// elements this module makes itself; nothing is ever parsed as HTML.
//
// Contract:
//   styled(text, addText) answers a DocumentFragment showing text with
//   its styling. addText(parent, s) appends plain text s to parent (the
//   view makes links of the URLs in it); it is not called inside
//   preformatted text, which stays literal. The fragment's textContent is
//   always text itself: the styling directives stay in view (muted, in
//   <span class="sd">), as the XEP advises, so copying a message copies
//   what was written.
//   parse(text) answers the blocks styled draws, for tests: an array of
//   {type: 'line', spans} | {type: 'pre', lines} | {type: 'quote', blocks},
//   spans being {type: 'text', text} | {type: 'strong'|'em'|'strike'|'code',
//   mark, children | text}.
//
// The rules, from XEP-0393:
//   - Blocks are lines. A line starting with ``` opens a preformatted
//     block that ends with a line that is exactly ``` (or the message);
//     its lines are literal. Lines starting with > are a quote, whose
//     text (without the > and one space) is styled again as blocks:
//     quotes nest, up to MAX_DEPTH, deeper > are plain text.
//   - Spans stay within a line: *strong*, _emphasis_, ~strike~ and
//     `preformatted`. An opening directive starts the line, follows
//     whitespace or follows another opening directive, and is not
//     followed by whitespace; it is closed by the nearest same character
//     that follows it by at least one character and is not preceded by
//     whitespace. Without one it is plain text. Spans nest (not `pre`,
//     whose text is literal).
// Cost: linear in the text for each of the at most five nesting levels of
// spans (a closer is found by binary search in the list of candidates),
// so a hostile 64 KiB message of unbalanced markers is cheap.

const SPANS = { '*': 'strong', _: 'em', '~': 'strike', '`': 'code' };
const TAGS = { strong: 'strong', em: 'em', strike: 's', code: 'code' };
export const MAX_DEPTH = 8;

const ws = (ch) => ch === undefined || /\s/.test(ch);

// closers lists, for each directive character, the positions in s that
// could close a span: the character, not preceded by whitespace.
function closers(s) {
  const out = { '*': [], _: [], '~': [], '`': [] };
  for (let j = 1; j < s.length; j++) {
    const list = out[s[j]];
    if (list && !ws(s[j - 1])) list.push(j);
  }
  return out;
}

// firstAtLeast answers the first element of the sorted list that is >= n,
// or -1.
function firstAtLeast(list, n) {
  let lo = 0, hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] < n) lo = mid + 1;
    else hi = mid;
  }
  return lo < list.length ? list[lo] : -1;
}

// spans parses one line (or a span's inside) into spans.
function spans(s) {
  const out = [];
  const close = closers(s);
  let text = '';
  let i = 0;
  // A span's inside is parsed from its own start, so "after another
  // opening directive" is the start of s.
  while (i < s.length) {
    const ch = s[i];
    const type = SPANS[ch];
    if (type && (i === 0 || ws(s[i - 1])) && !ws(s[i + 1])) {
      const j = firstAtLeast(close[ch], i + 2);
      if (j > 0) {
        if (text) out.push({ type: 'text', text });
        text = '';
        const inner = s.slice(i + 1, j);
        out.push(type === 'code' ? { type, mark: ch, text: inner } : { type, mark: ch, children: spans(inner) });
        i = j + 1;
        continue;
      }
    }
    text += ch;
    i++;
  }
  if (text) out.push({ type: 'text', text });
  return out;
}

// blocks parses lines into blocks; depth counts the quotes around them.
function blocks(lines, depth) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.startsWith('```')) {
      const pre = [line];
      i++;
      while (i < lines.length) {
        pre.push(lines[i]);
        if (lines[i++] === '```') break;
      }
      out.push({ type: 'pre', lines: pre });
    } else if (line.startsWith('>') && depth < MAX_DEPTH) {
      const quoted = [];
      while (i < lines.length && lines[i].startsWith('>')) quoted.push(lines[i++]);
      out.push({ type: 'quote', lines: quoted, blocks: blocks(quoted.map(unquote), depth + 1) });
    } else {
      out.push({ type: 'line', text: line, spans: spans(line) });
      i++;
    }
  }
  return out;
}

const unquote = (line) => line.slice(line.startsWith('> ') ? 2 : 1);

export function parse(text) {
  return blocks(String(text).split('\n'), 0);
}

function mark(parent, s) {
  const el = document.createElement('span');
  el.className = 'sd';
  el.textContent = s;
  parent.append(el);
}

function drawSpans(parent, list, addText) {
  for (const sp of list) {
    if (sp.type === 'text') {
      addText(parent, sp.text);
      continue;
    }
    const el = document.createElement(TAGS[sp.type]);
    mark(el, sp.mark);
    if (sp.type === 'code') el.append(sp.text);
    else drawSpans(el, sp.children, addText);
    mark(el, sp.mark);
    parent.append(el);
  }
}

// drawBlocks draws blocks into parent, a newline between two.
function drawBlocks(parent, list, addText) {
  list.forEach((b, n) => {
    const last = n === list.length - 1;
    if (b.type === 'line') {
      drawSpans(parent, b.spans, addText);
      if (!last) parent.append('\n');
    } else if (b.type === 'pre') {
      const pre = document.createElement('pre');
      pre.className = 'styled-pre';
      b.lines.forEach((l, k) => {
        const fence = k === 0 || (k === b.lines.length - 1 && l === '```');
        if (fence) mark(pre, l);
        else pre.append(l);
        if (k < b.lines.length - 1 || !last) pre.append('\n');
      });
      parent.append(pre);
    } else {
      const q = document.createElement('blockquote');
      q.className = 'styled-quote';
      drawQuote(q, b, addText);
      if (!last) q.append('\n');
      parent.append(q);
    }
  });
}

// drawQuote draws a quote: each of its lines starts with its own mark
// ("> " or ">") and the quoted blocks are drawn after it.
function drawQuote(q, b, addText) {
  // The marks belong to the quote's lines, which the quoted blocks span
  // one for one (a pre or an inner quote over several lines): the marks
  // are drawn where each line starts.
  const marks = b.lines.map((l) => (l.startsWith('> ') ? '> ' : '>'));
  mark(q, marks[0]);
  drawBlocks(q, b.blocks, addText);
  if (marks.length > 1) splitMarks(q, marks.slice(1));
}

// splitMarks puts marks, in order, after each newline of the text under
// el (the line starts of a quote after its first).
function splitMarks(el, marks) {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentNode.classList && n.parentNode.classList.contains('sd')) continue;
    let at = n.data.indexOf('\n');
    while (at >= 0 && found.length < marks.length) {
      found.push([n, at]);
      at = n.data.indexOf('\n', at + 1);
    }
    if (found.length >= marks.length) break;
  }
  // From the last, so that the offsets of earlier ones stay right.
  for (let k = found.length - 1; k >= 0; k--) {
    const [n, at] = found[k];
    const rest = n.splitText(at + 1);
    const sd = document.createElement('span');
    sd.className = 'sd';
    sd.textContent = marks[k];
    rest.parentNode.insertBefore(sd, rest);
  }
}

export function styled(text, addText = (p, s) => p.append(s)) {
  const frag = document.createDocumentFragment();
  drawBlocks(frag, parse(text), addText);
  return frag;
}
