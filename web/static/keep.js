// keep.js: a list drawn again keeps the elements that did not change.
//
// view.js draws a region by making its items anew from the model. Putting
// the new items in place of the old ones replaced every element on each
// change, and in a busy room the member list changes with every presence:
// a person pressing a member's Remove button while someone joined pressed
// an element that was gone when the button came up, and the browser gave
// the click to the list instead of the button (nothing happened); a
// keyboard's focus on a button fell back to the page; a screen reader lost
// its place. The sidebar's lists change with every message the same way.
//
// Contract: keepChildren(parent, fresh) makes parent's children the nodes
// of fresh, in that order, except that an element of fresh drawn exactly
// as one of parent's old children (the same markup: tag, attributes, text,
// descendants) is replaced by that old element, which stays where it is in
// the document: it is neither removed nor moved unless the items before it
// changed order. Old children not reused are removed first, then each node
// is put in place; only new, changed or reordered items are inserted.
// Items must carry all they show as markup: a property set by script or a
// listener on the element itself is not compared (view.js's items use
// data-* attributes and handlers delegated to the list).
//
// Cost: one outerHTML per old and per new item and a map lookup each,
// linear in the list's size (a room of 1,000 members is 2,000 strings of
// a few hundred bytes per redraw, which was 1,000 elements made anyway).

export function keepChildren(parent, fresh) {
  const byMarkup = new Map();
  for (const n of parent.children) {
    const k = n.outerHTML;
    const same = byMarkup.get(k);
    if (same) same.push(n);
    else byMarkup.set(k, [n]);
  }
  const want = fresh.map((n) => {
    if (n.nodeType !== Node.ELEMENT_NODE) return n;
    const same = byMarkup.get(n.outerHTML);
    return same && same.length ? same.shift() : n;
  });
  const kept = new Set(want);
  for (const n of [...parent.childNodes]) {
    if (!kept.has(n)) n.remove();
  }
  let at = parent.firstChild;
  for (const n of want) {
    if (n === at) {
      at = at.nextSibling;
    } else {
      parent.insertBefore(n, at);
    }
  }
}
