package xmppadmin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Prosodyctl is the Directory of a Prosody (0.12, Debian's package) on the
// gateway's own host, through its command-line tool: Debian's Prosody has
// no admin HTTP API (mod_admin_rest and mod_http_admin_api are community
// modules it does not ship), so accounts are made and changed the way an
// operator would, with prosodyctl against the server's configuration file.
//
// Passwords go to prosodyctl on its standard input (adduser and passwd
// prompt for them), never on its command line, where any local user could
// read them from the process list. Exists and Users read Prosody's internal
// storage (an accounts file per user under DataDir); a Prosody on SQL
// storage is not supported here.
//
// Prosody issues no login tokens of its own. With TokenSecret set, the
// gateway mints them (prosodytoken.go) and the server checks them with
// the module ProsodyTokenModule, which it must load with the same secret;
// without it IssueToken returns ErrUnsupported and IssuesTokens false, so
// the gateway keeps a session's password in memory for its reconnects and
// TOTP or passkey logins cannot open a session.
type Prosodyctl struct {
	// Config is the path of the server's prosody.cfg.lua. Required.
	Config string
	// DataDir is the server's data_path (internal storage). Required.
	DataDir string
	// Domain is the virtual host the accounts live on.
	Domain string
	// Bin is the prosodyctl command; empty means "prosodyctl" on the PATH.
	Bin string
	// TokenSecret, when set (at least 32 characters), is the secret the
	// server's mod_sparkgate_token shares: IssueToken mints X-OAUTH2
	// login tokens with it (prosodytoken.go).
	TokenSecret string
}

// prosodyctlTimeout bounds one prosodyctl run when the caller's context has
// no deadline: it loads the whole configuration and its modules each time,
// which takes about half a second here, and must not hang a request.
const prosodyctlTimeout = 30 * time.Second

// Register creates the account, or returns ErrUserExists.
func (p *Prosodyctl) Register(ctx context.Context, user, password string) error {
	if err := checkLocalpart(user); err != nil {
		return err
	}
	return p.withPassword(ctx, password, "adduser", user)
}

// Unregister removes the account, or returns ErrUserNotFound.
func (p *Prosodyctl) Unregister(ctx context.Context, user string) error {
	if ok, err := p.Exists(ctx, user); err != nil {
		return err
	} else if !ok {
		return ErrUserNotFound
	}
	_, err := p.run(ctx, nil, "deluser", user+"@"+p.Domain)
	return err
}

// Exists reports whether the account's file is in Prosody's storage.
func (p *Prosodyctl) Exists(_ context.Context, user string) (bool, error) {
	if checkLocalpart(user) != nil {
		return false, nil
	}
	_, err := os.Stat(filepath.Join(p.accountsDir(), ProsodyStoreName(user)+".dat"))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("xmppadmin: prosody storage: %w", ErrUnavailable)
}

// checkLocalpart refuses what cannot be an account name on prosodyctl's
// command line: the gateway has canonicalized names before they get here,
// so this guards only against a name that would read as another JID or as
// an option.
func checkLocalpart(user string) error {
	if user == "" || strings.HasPrefix(user, "-") || strings.ContainsAny(user, "@/\"\x00") ||
		strings.IndexFunc(user, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return ErrInvalidUser
	}
	return nil
}

// ChangePassword sets a new password, or returns ErrUserNotFound.
func (p *Prosodyctl) ChangePassword(ctx context.Context, user, password string) error {
	if checkLocalpart(user) != nil {
		return ErrUserNotFound
	}
	return p.withPassword(ctx, password, "passwd", user)
}

// Users lists the accounts in Prosody's storage, sorted.
func (p *Prosodyctl) Users(context.Context) ([]string, error) {
	entries, err := os.ReadDir(p.accountsDir())
	if errors.Is(err, os.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("xmppadmin: prosody storage: %w", ErrUnavailable)
	}
	users := make([]string, 0, len(entries))
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".dat")
		if !ok || e.IsDir() {
			continue
		}
		if u, err := url.PathUnescape(name); err == nil {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	return users, nil
}

// Status asks prosodyctl whether the server is running (its pidfile names
// a live process).
func (p *Prosodyctl) Status(ctx context.Context) error {
	_, err := p.run(ctx, nil, "status")
	if err != nil {
		return fmt.Errorf("xmppadmin: prosody status: %w", ErrUnavailable)
	}
	return nil
}

func (p *Prosodyctl) accountsDir() string {
	return filepath.Join(p.DataDir, ProsodyStoreName(p.Domain), "accounts")
}

// withPassword runs adduser or passwd for user, answering both of its
// password prompts on standard input, and maps prosodyctl's own sentences
// to the package's errors.
func (p *Prosodyctl) withPassword(ctx context.Context, password, verb, user string) error {
	if strings.ContainsAny(password, "\r\n") {
		// A line break would end the answer to the prompt early.
		return fmt.Errorf("xmppadmin: %w: a password with a line break", ErrInvalidPassword)
	}
	stdin := []byte(password + "\n" + password + "\n")
	out, err := p.run(ctx, stdin, verb, user+"@"+p.Domain)
	switch {
	case err == nil:
		return nil
	case bytes.Contains(out, []byte("already exists")):
		return ErrUserExists
	case bytes.Contains(out, []byte("does not exist")):
		return ErrUserNotFound
	}
	return err
}

// run runs prosodyctl with the configuration and args. Its output is
// returned for the callers that look for prosodyctl's sentences; the error
// carries only the last line that names a failure (the output could echo
// what was typed).
func (p *Prosodyctl) run(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	if p.Config == "" || p.DataDir == "" {
		return nil, errors.New("xmppadmin: Prosodyctl needs Config and DataDir")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, prosodyctlTimeout)
		defer cancel()
	}
	bin := p.Bin
	if bin == "" {
		bin = "prosodyctl"
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--config", p.Config}, args...)...)
	cmd.Dir = filepath.Dir(p.Config)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			// Not started, or killed by the context: the server's tool
			// is not usable.
			return out, fmt.Errorf("xmppadmin: prosodyctl %s: %w: %v", args[0], ErrUnavailable, err)
		}
		return out, fmt.Errorf("xmppadmin: prosodyctl %s: %s", args[0], prosodyctlLastLine(out))
	}
	return out, nil
}

// prosodyctlLastLine is the last non-empty line of out that is not one of
// prosodyctl's notes about optional libraries (its banner of asterisks) or
// a password prompt.
func prosodyctlLastLine(out []byte) string {
	var last string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "*") || strings.Contains(l, "unbound") || strings.Contains(l, "password:") {
			continue
		}
		last = l
	}
	return last
}

// ProsodyStoreName encodes a name as Prosody's datamanager does for its
// file names: every byte but ASCII letters and digits as %xx (lower case).
func ProsodyStoreName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}
