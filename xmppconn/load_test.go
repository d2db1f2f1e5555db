package xmppconn

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkgate/sparkgate/internal/ejabberd"
	"github.com/sparkgate/sparkgate/internal/ejabberdtest"
	"gosrc.io/xmpp"
	"gosrc.io/xmpp/stanza"
)

// The load comparison is not part of the default run:
//
//	go test -run TestLoadCompare -xmppconn.load -v ./xmppconn/
var (
	loadRun     = flag.Bool("xmppconn.load", false, "run the load comparison with gosrc.io/xmpp's Client against ejabberd")
	loadPairs   = flag.Int("xmppconn.pairs", 100, "connection pairs in the load comparison")
	loadFlight  = flag.Int("xmppconn.inflight", 16, "messages in flight per pair")
	loadPerPair = flag.Int("xmppconn.perpair", 100, "messages per pair")
)

// loadPeer is one logged-in client of either implementation.
type loadPeer interface {
	jid() string
	start() // begins consuming (after the idle measurement)
	sendRaw(ctx context.Context, raw []byte) error
	close()
}

// loadImpl connects a peer whose received chat bodies go to recv.
type loadImpl struct {
	name    string
	connect func(t *testing.T, s *ejabberd.Server, u ejabberdtest.User, res string, recv chan<- string) loadPeer
}

type ownPeer struct {
	c    *Conn
	recv chan<- string
	wg   sync.WaitGroup
}

func (p *ownPeer) jid() string { return p.c.JID() }
func (p *ownPeer) sendRaw(ctx context.Context, raw []byte) error {
	return p.c.SendRaw(ctx, raw)
}
func (p *ownPeer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.c.Close(ctx)
	p.wg.Wait()
}

func connectOwn(t *testing.T, s *ejabberd.Server, u ejabberdtest.User, res string, recv chan<- string) loadPeer {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, Config{Addr: s.C2SAddr(), Domain: s.Domain(), User: u.Name, Password: u.Password, Resource: res, TLS: TLSOff})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	// Same footing as the library's Client, which always sends it.
	if err := c.SendRaw(ctx, []byte("<presence/>")); err != nil {
		t.Fatal(err)
	}
	return &ownPeer{c: c, recv: recv}
}

// start runs the consumer, a goroutine of the application, not of the Conn.
func (p *ownPeer) start() {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for st := range p.c.In() {
			if st.Message != nil && st.Message.Body != "" {
				p.recv <- st.Message.Body
			}
		}
	}()
}

type gosrcPeer struct {
	c   *xmpp.Client
	jid string
}

func (p *gosrcPeer) sendRaw(_ context.Context, raw []byte) error { return p.c.SendRaw(string(raw)) }
func (p *gosrcPeer) close()                                      { p.c.Disconnect() }
func (p *gosrcPeer) start()                                      {} // handlers run on the Client's goroutines

type gosrcPeerJID struct{ *gosrcPeer }

func (p gosrcPeerJID) jid() string { return p.gosrcPeer.jid }

func connectGosrc(t *testing.T, s *ejabberd.Server, u ejabberdtest.User, res string, recv chan<- string) loadPeer {
	router := xmpp.NewRouter()
	router.HandleFunc("message", func(_ xmpp.Sender, p stanza.Packet) {
		if m, ok := p.(stanza.Message); ok && m.Body != "" {
			recv <- m.Body
		}
	})
	jid := u.JID + "/" + res
	cfg := &xmpp.Config{
		TransportConfiguration: xmpp.TransportConfiguration{Address: s.C2SAddr(), Domain: s.Domain(), ConnectTimeout: 10},
		Jid:                    jid,
		Credential:             xmpp.Password(u.Password),
		Insecure:               true,
		KeepaliveInterval:      DefaultKeepAlive,
	}
	c, err := xmpp.NewClient(cfg, router, func(error) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	return gosrcPeerJID{&gosrcPeer{c: c, jid: jid}}
}

type loadResult struct {
	name                      string
	conns                     int
	goroutinesPerConn, rssKiB float64
	heapKiB, stackKiB         float64 // HeapInuse and StackInuse per connection
	msgs, lost, violations    int
	elapsed                   time.Duration
	p50, p99                  time.Duration
}

func rssKiB(t *testing.T) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(n)
		}
	}
	return 0
}

func settle() {
	for range 3 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	time.Sleep(200 * time.Millisecond)
}

func runLoad(t *testing.T, s *ejabberd.Server, users []ejabberdtest.User, impl loadImpl) loadResult {
	pairs, inFlight, perPair := *loadPairs, *loadFlight, *loadPerPair
	recv := make([]chan string, pairs)
	for i := range recv {
		recv[i] = make(chan string, perPair+16)
	}
	settle()
	g0, rss0 := runtime.NumGoroutine(), rssKiB(t)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	senders := make([]loadPeer, pairs)
	receivers := make([]loadPeer, pairs)
	discard := make(chan string, 1024)
	go func() {
		for range discard {
		}
	}()
	for i := range pairs {
		receivers[i] = impl.connect(t, s, users[2*i], impl.name+"-r", recv[i])
		senders[i] = impl.connect(t, s, users[2*i+1], impl.name+"-s", discard)
	}
	settle()
	g1, rss1 := runtime.NumGoroutine(), rssKiB(t)
	runtime.ReadMemStats(&ms1)
	res := loadResult{
		name:              impl.name,
		conns:             2 * pairs,
		goroutinesPerConn: float64(g1-g0) / float64(2*pairs),
		rssKiB:            (rss1 - rss0) / float64(2*pairs),
		heapKiB:           (float64(ms1.HeapInuse) - float64(ms0.HeapInuse)) / 1024 / float64(2*pairs),
		stackKiB:          (float64(ms1.StackInuse) - float64(ms0.StackInuse)) / 1024 / float64(2*pairs),
	}
	for i := range pairs {
		receivers[i].start()
		senders[i].start()
	}

	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	lat := make([][]time.Duration, pairs)
	var violations, lost atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range pairs {
		slots := make(chan struct{}, inFlight)
		to := receivers[i].jid()
		wg.Add(2)
		go func() {
			defer wg.Done()
			for seq := range perPair {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				body := fmt.Sprintf("%d %d", seq, time.Now().UnixNano())
				if err := senders[i].sendRaw(ctx, fmt.Appendf(nil, "<message to='%s' type='chat'><body>%s</body><no-store xmlns='urn:xmpp:hints'/></message>", to, body)); err != nil {
					t.Errorf("send: %v", err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			maxSeen := -1
			for n := 0; n < perPair; n++ {
				select {
				case body := <-recv[i]:
					now := time.Now().UnixNano()
					seqS, tsS, _ := strings.Cut(body, " ")
					seq, _ := strconv.Atoi(seqS)
					ts, _ := strconv.ParseInt(tsS, 10, 64)
					lat[i] = append(lat[i], time.Duration(now-ts))
					if seq < maxSeen {
						violations.Add(1)
					}
					maxSeen = max(maxSeen, seq)
					<-slots
				case <-ctx.Done():
					lost.Add(int64(perPair - n))
					return
				}
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	res.msgs = len(all)
	if len(all) > 0 {
		res.p50 = all[len(all)/2]
		res.p99 = all[len(all)*99/100]
	}
	res.violations, res.lost = int(violations.Load()), int(lost.Load())
	var cw sync.WaitGroup
	for _, p := range append(senders, receivers...) {
		cw.Add(1)
		go func() {
			defer cw.Done()
			p.close()
		}()
	}
	cw.Wait()
	close(discard)
	return res
}

func TestLoadCompare(t *testing.T) {
	if !*loadRun {
		t.Skip("load comparison: run with -xmppconn.load")
	}
	s := ejabberdtest.Shared(t)
	var users []ejabberdtest.User
	for range 2 * *loadPairs {
		users = append(users, ejabberdtest.NewUser(t))
	}
	// Two rounds, alternating, so that neither implementation always pays
	// for warming up the process (heap growth shows in RSS).
	own, lib := loadImpl{"xmppconn", connectOwn}, loadImpl{"gosrc", connectGosrc}
	for _, impl := range []loadImpl{own, lib, lib, own} {
		r := runLoad(t, s, users, impl)
		t.Logf("%-8s conns=%d goroutines/conn=%.2f rss/conn=%.1fKiB heap/conn=%.1fKiB stack/conn=%.1fKiB msgs=%d lost=%d order-violations=%d elapsed=%v msgs/s=%.0f p50=%v p99=%v",
			r.name, r.conns, r.goroutinesPerConn, r.rssKiB, r.heapKiB, r.stackKiB, r.msgs, r.lost, r.violations, r.elapsed.Round(time.Millisecond),
			float64(r.msgs)/r.elapsed.Seconds(), r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond))
	}
}
