package noderpc_test

import (
	"context"
	"testing"
	"time"
)

// TestIntegrationBroadcast: a broadcast reaches every other listening
// node once, not its sender; a node that stopped listening hears no more.
func TestIntegrationBroadcast(t *testing.T) {
	a, b, c := node(t, t.Name()+".a", 0), node(t, t.Name()+".b", 0), node(t, t.Name()+".c", 0)
	got := map[string]chan string{"a": make(chan string, 4), "b": make(chan string, 4), "c": make(chan string, 4)}
	stops := map[string]func(){}
	for name, p := range map[string]interface {
		Listen(func([]byte)) (func(), error)
	}{"a": a, "b": b, "c": c} {
		stop, err := p.Listen(func(msg []byte) { got[name] <- string(msg) })
		if err != nil {
			t.Fatal(err)
		}
		stops[name] = stop
		t.Cleanup(stop)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := a.Broadcast(ctx, []byte("one")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b", "c"} {
		select {
		case m := <-got[name]:
			if m != "one" {
				t.Errorf("%s heard %q, want one", name, m)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("%s did not hear the broadcast", name)
		}
	}
	stops["c"]()
	if err := b.Broadcast(ctx, []byte("two")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got["a"]:
		if m != "two" {
			t.Errorf("a heard %q, want two (not its own one)", m)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a did not hear b's broadcast")
	}
	time.Sleep(200 * time.Millisecond) // what could still come would be here by now
	for _, name := range []string{"a", "b", "c"} {
		select {
		case m := <-got[name]:
			t.Errorf("%s heard %q more", name, m)
		default:
		}
	}
}
