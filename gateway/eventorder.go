package gateway

import "sync"

// appendOrder serializes the appends of one user's events to the EventLog.
// A user's events come from more than one goroutine (the session's, the
// unread tracker's), and the log fences each append with the user's last
// sequence: two appends at once would fence each other out, and two
// published out of order would look like a gap to the hub. One lock per
// user with appends in flight, dropped with the last of them, so the map
// holds only users being appended to right now.
type appendOrder struct {
	mu    sync.Mutex
	users map[string]*userAppend
}

type userAppend struct {
	sync.Mutex
	refs int // appends waiting for or holding the lock; guarded by appendOrder.mu
}

// lock waits for user's turn and returns the function that ends it.
func (o *appendOrder) lock(user string) (unlock func()) {
	o.mu.Lock()
	if o.users == nil {
		o.users = make(map[string]*userAppend)
	}
	u := o.users[user]
	if u == nil {
		u = &userAppend{}
		o.users[user] = u
	}
	u.refs++
	o.mu.Unlock()
	u.Lock()
	return func() {
		u.Unlock()
		o.mu.Lock()
		if u.refs--; u.refs == 0 {
			delete(o.users, user)
		}
		o.mu.Unlock()
	}
}
