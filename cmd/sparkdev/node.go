package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"syscall"
	"time"
)

// node is one running gateway process.
type node struct {
	url  string // http://<listen>
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

// startNode starts the gateway binary with env (which names its listen
// address, listen) and waits until it is ready.
func startNode(ctx context.Context, bin, listen string, env []string, stdout, stderr io.Writer) (*node, error) {
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Own process group: the terminal's Ctrl-C reaches us, and we stop the
	// gateways ourselves in order (they first, then what they use).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the gateway: %w", err)
	}
	n := &node{url: "http://" + listen, cmd: cmd, done: make(chan struct{})}
	go func() { // ends when the process does
		n.err = cmd.Wait()
		close(n.done)
	}()
	if err := waitReady(ctx, n); err != nil {
		n.stop()
		return nil, err
	}
	return n, nil
}

// stop ends the gateway: SIGTERM, a kill after its shutdown timeout.
func (n *node) stop() {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(35 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

// waitReady polls the node's /readyz until it answers 200, the process
// exits, ctx ends or a minute passes.
func waitReady(ctx context.Context, n *node) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.url+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-n.done:
			return fmt.Errorf("gateway exited before it was ready: %v", n.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return errors.New("gateway not ready after 60 s")
}
