package gateway

import (
	"reflect"
	"testing"
)

// TestRemoteVerbsCoverSession: every Session verb can be carried to the
// node that owns the user, and every carried verb is one of Session's. A
// verb added to the interface without its remote form would compile (the
// remote session would only need a method) and fail in a cluster alone.
func TestRemoteVerbsCoverSession(t *testing.T) {
	// Local on purpose, each with its reason.
	local := map[string]string{
		"User":     "the remote session knows its user from the token",
		"AddToken": "every request names its token; the owner adds it (serveRemote)",
		"RoomNick": "read from Rooms, which is carried",
	}
	iface := reflect.TypeOf((*Session)(nil)).Elem()
	methods := make(map[string]bool, iface.NumMethod())
	for i := range iface.NumMethod() {
		name := iface.Method(i).Name
		methods[name] = true
		_, carried := remoteVerbs[name]
		if _, ok := local[name]; ok {
			if carried {
				t.Errorf("%s is listed as local but has a remote verb", name)
			}
			continue
		}
		if !carried {
			t.Errorf("Session.%s has no remote verb in remoteVerbs", name)
		}
	}
	for name := range remoteVerbs {
		if !methods[name] {
			t.Errorf("remote verb %q is not a Session method", name)
		}
	}
	for name := range local {
		if !methods[name] {
			t.Errorf("local exception %q is not a Session method", name)
		}
	}
}
