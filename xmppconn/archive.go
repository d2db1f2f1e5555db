package xmppconn

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"

	"gosrc.io/xmpp/stanza"
)

// MaxArchivePage is the most results one QueryArchive asks for.
const MaxArchivePage = 1000

// Page selects one page of an archive query (XEP-0059 result set
// management). The zero value asks for the first (oldest) page of
// DefaultArchivePage results.
type Page struct {
	// Max is how many results at most; zero means DefaultArchivePage, more
	// than MaxArchivePage is cut to it.
	Max int
	// After asks for the results just after this archive id.
	After string
	// Before asks for the results just before this archive id; with Last
	// set and Before empty, for the most recent page.
	Before string
	Last   bool
}

// DefaultArchivePage is the page size of a Page with no Max.
const DefaultArchivePage = 100

// QueryArchive asks an archive (XEP-0313) for one page of results: the
// user's own archive when archive is empty, else the archive of that JID
// (a room's bare JID). It returns the results in archive order with the
// query's Fin. The results are collected from the session's stream: the
// call returns once the IQ reply and every result it announces arrived.
// f.FullText is sent as the withtext field, the name ejabberd knows.
// A message the archive holds twice because its sender sent it again after
// a connection loss (see outbox) is returned once, as its first copy. A
// page after or before an id the archive does not have is
// ErrUnknownArchiveID.
func (s *Session) QueryArchive(ctx context.Context, archive string, f ArchiveFilter, p Page) ([]*MAMResult, Fin, error) {
	qid := rand.Text()[:20]
	col := &collector{seenID: make(map[string]bool), from: archive, notify: make(chan struct{}, 1)}
	s.mu.Lock()
	s.collectors[qid] = col
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.collectors, qid)
		s.mu.Unlock()
	}()

	q := &MAMQuery{QueryID: qid}
	text := f.FullText
	f.FullText = ""
	q.Filter(f)
	if text != "" {
		// ejabberd 23.01 refuses {urn:xmpp:fulltext:0}fulltext as an
		// unknown field; its own name for a body search is withtext.
		q.Form.Fields = append(q.Form.Fields, &stanza.Field{Var: "withtext", ValuesList: []string{text}})
	}
	n := p.Max
	if n <= 0 {
		n = DefaultArchivePage
	}
	set := &stanza.ResultSet{Max: ptr(min(n, MaxArchivePage))}
	switch {
	case p.After != "":
		set.After = ptr(p.After)
	case p.Before != "" || p.Last:
		set.Before = ptr(p.Before)
	}
	q.Set = set
	iq := &stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet, To: archive}, Payload: q}
	reply, err := s.iq(ctx, iq)
	if err != nil {
		if p.After != "" || p.Before != "" {
			err = meaning(err, "item-not-found", ErrUnknownArchiveID)
		}
		return nil, Fin{}, err
	}
	fin := ParseFin(&reply)
	// The IQ reply overtakes the results still queued for the session's
	// goroutine: wait until the last one announced has been collected.
	for {
		s.mu.Lock()
		done := fin.Last == "" || col.seenID[fin.Last]
		var out []*MAMResult
		if done {
			out = dropResent(slices.Clone(col.results))
		}
		s.mu.Unlock()
		if done {
			return out, fin, nil
		}
		select {
		case <-col.notify:
		case <-ctx.Done():
			return nil, fin, fmt.Errorf("xmppconn: archive results: %w", ctx.Err())
		case <-s.ctx.Done():
			return nil, fin, ErrSessionEnded
		}
	}
}

// dropResent removes from results every message that repeats an earlier one
// of the same page by sender and origin-id (originKey): the second copy of a
// message a session sent again after losing its connection, which reached
// the archive twice. It reuses the backing array of results.
func dropResent(results []*MAMResult) []*MAMResult {
	var seen map[string]bool
	out := results[:0]
	for _, r := range results {
		if k := originKey(r.Forwarded.Message); k != "" {
			if seen[k] {
				continue
			}
			if seen == nil {
				seen = make(map[string]bool)
			}
			seen[k] = true
		}
		out = append(out, r)
	}
	return out
}
