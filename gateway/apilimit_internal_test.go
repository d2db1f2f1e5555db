package gateway

import (
	"testing"
	"time"
)

// TestRequestCost: what each kind of operation spends of its user's
// bucket, and that every operation the tables name is one of the spec's
// (a renamed operation would otherwise fall back to a cost of 1 unseen).
func TestRequestCost(t *testing.T) {
	tests := []struct {
		op   string
		want int
	}{
		{"sendChatMessage", 1},
		{"getUnread", 1},
		{"getChatMessages", 1},
		{"getUserGroups", heavyCost},
		{"listUsers", heavyCost},
		{"previewLink", heavyCost},
		{"previewImage", heavyCost},
		{"operatorBroadcast", heavyCost},
		{"streamEvents", 0},
		{"logout", 0},
		{"logoutAll", 0},
	}
	for _, tt := range tests {
		if got := requestCost(tt.op); got != tt.want {
			t.Errorf("requestCost(%q) = %d, want %d", tt.op, got, tt.want)
		}
	}
	spec, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			ops[op.OperationID] = true
		}
	}
	for _, table := range []map[string]bool{heavyOperations, unmetered} {
		for op := range table {
			if !ops[op] {
				t.Errorf("%q is not an operation of openapi.yaml", op)
			}
		}
	}
}

// TestKeyedLimiterTakeN: n attempts are spent together or not at all, and
// the wait is until n are back.
func TestKeyedLimiterTakeN(t *testing.T) {
	now := time.Unix(1000, 0)
	k := newKeyedLimiter(RateLimit{Every: time.Second, Burst: 10}, func() time.Time { return now })
	if ok, _ := k.takeN("a", 8); !ok {
		t.Fatal("8 of 10 refused")
	}
	ok, wait := k.takeN("a", 5)
	if ok || wait != 3*time.Second {
		t.Fatalf("5 with 2 left = %v, %v; want refused, 3s", ok, wait)
	}
	if ok, _ := k.takeN("a", 2); !ok {
		t.Fatal("the refusal spent attempts: 2 of 2 left refused")
	}
	if ok, _ := k.takeN("b", 10); !ok {
		t.Fatal("another key's full bucket refused")
	}
	now = now.Add(3 * time.Second)
	if ok, _ := k.takeN("a", 3); !ok {
		t.Fatal("3 earned back in 3s refused")
	}
}
