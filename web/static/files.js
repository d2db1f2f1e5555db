// files.js: which messages are files, and what a file is called. A
// message is a file when it carries one (XEP-0066 out-of-band data, the
// `file: {url, desc}` of chatapi.chat), or when its whole body is one
// http(s) URL whose last path segment names a file (has an extension
// other than a web page's). A file is an image when that extension is
// one browsers show. Pure functions: no DOM, no network.
//
// Contract: fileOf(m) answers null or {url, name, desc, image}: url is an
// http(s) URL (never another scheme), name the decoded last path segment
// (or the host), desc the sender's description ('' when none, or when it
// is just the file's name, as an upload sends it), image true
// for png, jpeg, gif, webp, avif, bmp and svg.

const IMAGE = /^(png|jpe?g|gif|webp|avif|bmp|svg)$/;
const PAGE = /^(html?|php|aspx?|jsp|cgi)$/;
const ONE_URL = /^https?:\/\/\S+$/i;

// nameOf answers the file name of url (its last path segment, decoded),
// or its host when the path names none; '' when url is not http(s).
export function nameOf(url) {
  let u;
  try { u = new URL(url); } catch { return ''; }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return '';
  const seg = u.pathname.split('/').filter(Boolean).pop() || '';
  let name = seg;
  try { name = decodeURIComponent(seg); } catch { /* keep it encoded */ }
  return name || u.host;
}

// extOf answers the lower-case extension of a file name ('' when none).
function extOf(name) {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(i + 1).toLowerCase() : '';
}

// fileOf answers the file message m carries (see the top), or null.
export function fileOf(m) {
  if (!m) return null;
  let url = '', desc = '', named = false;
  if (m.file && typeof m.file.url === 'string') {
    url = m.file.url.trim();
    desc = typeof m.file.desc === 'string' ? m.file.desc : '';
    named = true; // sent as a file: a card even without an extension
  } else if (typeof m.body === 'string' && ONE_URL.test(m.body.trim())) {
    url = m.body.trim();
  }
  const name = url ? nameOf(url) : '';
  if (!name) return null;
  if (desc.trim() === name) desc = ''; // an upload describes itself by its name: nothing more to say
  const ext = extOf(name);
  if (!named && (!ext || PAGE.test(ext) || name === new URL(url).host)) return null; // a link to a page
  return { url, name, desc, image: IMAGE.test(ext) };
}
