package main

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sparkgate/sparkgate/sse/ssetest"
	"github.com/sparkgate/sparkgate/xmppadmin"
	"github.com/sparkgate/sparkgate/xmppconn"
)

// usersPerSource is how many users log in from one loopback source
// address: the gateway limits login attempts per client address (60 at
// once by default), and the benchmark logs in thousands of users.
const usersPerSource = 40

// gatewayProc is the gateway binary running as a child process.
type gatewayProc struct {
	bin, dataDir, addr string
	env                []string
	log                *slog.Logger

	cmd    *exec.Cmd
	exited chan error
}

// start runs the gateway and waits until /readyz answers 200.
func (g *gatewayProc) start(ctx context.Context) error {
	cmd := exec.Command(g.bin)
	cmd.Env = append(os.Environ(), g.env...)
	logFile, err := os.OpenFile(filepath.Join(g.dataDir, "gateway.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting the gateway: %w", err)
	}
	g.cmd, g.exited = cmd, make(chan error, 1)
	go func() { g.exited <- cmd.Wait(); logFile.Close() }()

	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+g.addr+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-g.exited:
			g.exited <- err
			return fmt.Errorf("gateway exited at start: %v; log:\n%s", err, tail(filepath.Join(g.dataDir, "gateway.log"), 2048))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("gateway not ready within 60s")
}

// stop sends SIGTERM and waits (bounded) for the process to exit.
func (g *gatewayProc) stop() error {
	if g.cmd == nil {
		return nil
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-g.exited:
	case <-time.After(90 * time.Second):
		_ = g.cmd.Process.Kill()
		err = <-g.exited
	}
	g.cmd = nil
	return err
}

func (g *gatewayProc) pid() int {
	if g.cmd == nil {
		return 0
	}
	return g.cmd.Process.Pid
}

// sourceClient returns an HTTP client whose connections come from the
// loopback address of source group n (127.77.x.y), with enough idle
// connections per host for every request in flight.
func sourceClient(n int) *http.Client {
	ip := net.IPv4(127, 77, byte(n/250), byte(n%250+1))
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}}
}

// clients hands out one HTTP client per source group.
type clients struct {
	mu     sync.Mutex
	m      map[int]*http.Client
	logins int // logins handed a client so far
}

// forLogin returns the client for the next login: every run's logins are
// spread over the source addresses, usersPerSource to each, so no address
// reaches the gateway's per-address login limit.
func (c *clients) forLogin() *http.Client {
	c.mu.Lock()
	n := c.logins
	c.logins++
	c.mu.Unlock()
	return c.forUser(n)
}

func (c *clients) forUser(i int) *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := i / usersPerSource
	hc := c.m[n]
	if hc == nil {
		if c.m == nil {
			c.m = map[int]*http.Client{}
		}
		hc = sourceClient(n)
		c.m[n] = hc
	}
	return hc
}

func (c *clients) closeIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, hc := range c.m {
		hc.CloseIdleConnections()
	}
}

// api talks to the gateway's REST API.
type api struct {
	base string
}

// login logs user in with password and returns the token. A 429 is retried
// after its Retry-After, at most a few times.
func (a *api) login(ctx context.Context, hc *http.Client, user, password string) (string, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/sparkweb/api/rest/login/"+url.PathEscape(user), strings.NewReader(password))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "text/plain")
		resp, err := hc.Do(req)
		if err != nil {
			return "", err
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && attempt < 5 {
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			select {
			case <-time.After(time.Duration(max(wait, 1)) * time.Second):
				continue
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("login %s: %d %s", user, resp.StatusCode, b)
		}
		var tok struct {
			Token string `json:"token"`
		}
		if err := jsonUnmarshal(b, &tok); err != nil || tok.Token == "" {
			return "", fmt.Errorf("login %s: no token in %s", user, b)
		}
		return tok.Token, nil
	}
}

// post sends a chat message from the token's user to the user to.
func (a *api) post(ctx context.Context, hc *http.Client, token, to, body string) error {
	return a.do(ctx, hc, http.MethodPost, "/sparkweb/api/rest/chat/message/"+url.PathEscape(to), token, "text/plain", body)
}

// do makes one authenticated call and fails unless it answers 2xx.
func (a *api) do(ctx context.Context, hc *http.Client, method, path, token, ctype, body string) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return httpDo(hc, req)
}

// stream is one open event stream whose events go to a callback on the
// stream's own reader goroutine.
type stream struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// open opens the token's event stream and returns once onConnect has
// arrived, so the stream is registered. on is called for every later
// event with the time it was parsed; it runs on the reader goroutine.
func (a *api) open(ctx context.Context, hc *http.Client, token string, on func(ev ssetest.Event, at time.Time)) (*stream, error) {
	req, err := http.NewRequest(http.MethodGet, a.base+"/sparkweb/api/sse?token="+url.QueryEscape(token), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	return openEvents(ctx, hc, req, firstEvent("onConnect"), nil, on)
}

// close ends the stream and waits for its reader.
func (s *stream) close() {
	s.cancel()
	<-s.done
}

// dialDirect opens an xmppconn stream for user and sends initial presence,
// so messages to the bare JID reach it.
func dialDirect(ctx context.Context, addr, domain, user, password string) (*xmppconn.Conn, error) {
	c, err := xmppconn.Dial(ctx, xmppconn.Config{
		Addr: addr, Domain: domain, User: user, Password: password,
		TLS: xmppconn.TLSOptional,
	})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", user, err)
	}
	if err := c.SendRaw(ctx, []byte("<presence/>")); err != nil {
		c.Close(ctx)
		return nil, err
	}
	return c, nil
}

// chatStanza is a one-to-one message with a body.
func chatStanza(to, id, body string) []byte {
	var b strings.Builder
	b.WriteString("<message type='chat' to='")
	xml.EscapeText(&b, []byte(to))
	b.WriteString("' id='")
	xml.EscapeText(&b, []byte(id))
	b.WriteString("'><body>")
	xml.EscapeText(&b, []byte(body))
	b.WriteString("</body></message>")
	return []byte(b.String())
}

// registerUsers creates n users named prefix0..prefix(n-1) with password,
// with a few requests in flight.
func registerUsers(ctx context.Context, admin *xmppadmin.Ejabberd, prefix string, from, n int, password string) error {
	return forEach(ctx, n, 8, func(ctx context.Context, i int) error {
		return admin.Register(ctx, fmt.Sprintf("%s%d", prefix, from+i), password)
	})
}

// forEach runs f for 0..n-1 on workers goroutines and returns the first
// error; the others stop at the next index after an error.
func forEach(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range min(workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return first
}

// tail returns the last n bytes of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
