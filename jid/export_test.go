package jid

// ASCIILocalpart exposes the shortcut to the external tests.
var ASCIILocalpart = asciiLocalpart

// PrepareNode runs the whole Nodeprep profile, with no shortcut; it
// returns "" for a refused name.
func PrepareNode(s string) (string, error) { return prepare(nodeprep, PartLocal, s) }
