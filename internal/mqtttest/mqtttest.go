// Package mqtttest starts throwaway Mosquitto MQTT brokers for tests.
//
// A broker listens on a free port on 127.0.0.1, allows anonymous clients,
// keeps nothing on disk unless asked to (Config.Persistence) and logs to
// stderr; the log is kept in memory and printed with t.Log when the test
// that started the broker fails. The broker is killed when that test ends,
// whether it passed or not.
//
// Stop and Restart stop the broker and start it again on the same port, so
// tests can check that clients reconnect. A Proxy between a client and the
// broker cuts the client's connections while the broker keeps running, so
// tests can check what a broker queues for a client that is away.
//
// Mosquitto run as root drops its privileges to the mosquitto user after
// reading its configuration. That would leave it unable to write a
// persistence file into the test's temporary directory (0700, owned by
// root), and changing user clears the parent-death signal that kills the
// broker if the test binary dies without running t.Cleanup (a timeout, a
// signal). So when the test runs as root (as in CI) the configuration says
// "user root": mosquitto allows it and logs a warning ("Mosquitto should
// not be run as root/administrator"), harmless for a broker bound to
// 127.0.0.1 that lives as long as one test.
//
// When mosquitto is missing, Start skips the test with a message naming the
// Debian package (mosquitto), except when the environment variable CI is
// true: CI installs the package, so a missing broker there fails the test.
package mqtttest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Package is the Debian package that provides the broker.
const Package = "mosquitto"

// ErrNotInstalled reports that the mosquitto binary was not found.
var ErrNotInstalled = errors.New("mosquitto not installed (Debian package " + Package + ")")

// readyTimeout bounds how long a start waits for the port to accept
// connections.
const readyTimeout = 10 * time.Second

// stopTimeout bounds how long Stop waits for mosquitto to exit after SIGTERM
// before it kills it.
const stopTimeout = 5 * time.Second

// Config selects broker options. The zero value is the default Start uses.
type Config struct {
	// Persistence keeps sessions (subscriptions of clients connecting with
	// clean session false) and their queued messages in a file in the
	// broker's directory, written when the broker stops (Stop, Restart) and
	// read when it starts again. Without it a restart forgets every session.
	Persistence bool
	// Extra is appended to mosquitto.conf, for instance
	// "max_queued_messages 10000\n".
	Extra string
}

// Broker is a running (or stopped, see Stop) throwaway Mosquitto broker.
type Broker struct {
	bin  string
	dir  string // holds mosquitto.conf and, with persistence, the database
	conf string
	port int
	log  *logBuffer // mosquitto's stderr, across restarts

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	waitErr error         // cmd's exit status, valid once exited is closed
}

// logBuffer is a bytes.Buffer safe for the concurrent writes of a process's
// output copier and reads by the test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Start starts a broker with the default Config for t. The broker is killed
// when t ends; if t failed, its log is printed first. Start skips t when
// mosquitto is not installed, unless CI is true, where it fails.
func Start(t testing.TB) *Broker {
	t.Helper()
	return StartConfig(t, Config{})
}

// StartConfig is Start with options.
func StartConfig(t testing.TB, cfg Config) *Broker {
	t.Helper()
	b, err := StartBroker(t.TempDir(), cfg)
	if err != nil {
		SkipOrFail(t, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mosquitto log (port %d):\n%s", b.port, b.Log())
		}
		b.kill()
	})
	return b
}

// StartBroker starts a broker whose configuration (and persistence file)
// live in dir, which must exist. The caller must Stop it; dir is not
// removed. Errors wrap ErrNotInstalled when mosquitto is missing.
func StartBroker(dir string, cfg Config) (*Broker, error) {
	bin, err := findBinary()
	if err != nil {
		return nil, err
	}
	b := &Broker{bin: bin, dir: dir, conf: filepath.Join(dir, "mosquitto.conf"), log: new(logBuffer)}
	// Pick a free port and start; if another process takes the port
	// between the probe and mosquitto's bind, try another.
	for attempt := 0; attempt < 3; attempt++ {
		if b.port, err = freePort(); err != nil {
			return nil, err
		}
		if err = b.writeConfig(cfg); err != nil {
			return nil, err
		}
		if err = b.start(); err == nil {
			return b, nil
		}
	}
	return nil, err
}

// findBinary locates mosquitto: $MOSQUITTO, PATH, then /usr/sbin (not in
// the PATH of non-root users on Debian).
func findBinary() (string, error) {
	if p := os.Getenv("MOSQUITTO"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("mqtttest: MOSQUITTO=%s: %w: %v", p, ErrNotInstalled, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("mqtttest: mosquitto not found (looked at $MOSQUITTO, PATH, /usr/sbin, /usr/local/sbin): %w", ErrNotInstalled)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("mqtttest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (b *Broker) writeConfig(cfg Config) error {
	var conf strings.Builder
	fmt.Fprintf(&conf, "listener %d 127.0.0.1\n", b.port)
	conf.WriteString("allow_anonymous true\n")
	conf.WriteString("log_dest stderr\n")
	conf.WriteString("log_type all\n")
	conf.WriteString("log_timestamp_format %H:%M:%S\n")
	if cfg.Persistence {
		conf.WriteString("persistence true\n")
		// mosquitto.conf(5): the location must end in a slash.
		fmt.Fprintf(&conf, "persistence_location %s/\n", b.dir)
		conf.WriteString("persistence_file mosquitto.db\n")
	} else {
		conf.WriteString("persistence false\n")
	}
	if os.Geteuid() == 0 {
		// See the package documentation.
		conf.WriteString("user root\n")
	}
	conf.WriteString(cfg.Extra)
	if err := os.WriteFile(b.conf, []byte(conf.String()), 0o644); err != nil {
		return fmt.Errorf("mqtttest: write config: %w", err)
	}
	return nil
}

// start starts mosquitto on b.port and waits until the port accepts
// connections.
func (b *Broker) start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil {
		return errors.New("mqtttest: broker already running")
	}
	fmt.Fprintf(b.log, "--- mqtttest: starting %s on port %d\n", b.bin, b.port)
	cmd := exec.Command(b.bin, "-c", b.conf)
	cmd.Dir = b.dir
	cmd.Stdout = b.log
	cmd.Stderr = b.log
	// Kill the broker if the test binary dies without running t.Cleanup.
	// (Linux clears this when the child changes user: see the package doc.)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("mqtttest: start %s: %w", b.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		b.waitErr = cmd.Wait()
		close(exited)
	}()
	b.cmd, b.exited = cmd, exited

	addr := b.Addr()
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			b.cmd = nil
			return fmt.Errorf("mqtttest: mosquitto exited while starting (%v); log:\n%s", b.waitErr, tail(b.log.String(), 2000))
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			b.stopLocked(0)
			return fmt.Errorf("mqtttest: mosquitto not accepting connections on %s after %v: %v; log:\n%s",
				addr, readyTimeout, err, tail(b.log.String(), 2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// stopLocked stops the running broker, if any: SIGTERM (mosquitto then
// writes its persistence file), and SIGKILL after grace. b.mu must be held.
func (b *Broker) stopLocked(grace time.Duration) error {
	if b.cmd == nil {
		return nil
	}
	cmd, exited := b.cmd, b.exited
	b.cmd = nil
	if grace > 0 {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
			return nil
		case <-time.After(grace):
		}
	}
	cmd.Process.Kill()
	<-exited
	if grace > 0 {
		return fmt.Errorf("mqtttest: mosquitto did not exit within %v of SIGTERM; killed it", grace)
	}
	return nil
}

// kill kills the broker if it is running, without waiting for a clean
// shutdown.
func (b *Broker) kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopLocked(0)
}

// URL returns the broker's address as an MQTT URL, tcp://127.0.0.1:PORT.
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// Addr returns the broker's host:port, 127.0.0.1:PORT.
func (b *Broker) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)) }

// Port returns the TCP port the broker listens on (127.0.0.1).
func (b *Broker) Port() int { return b.port }

// Log returns what mosquitto has logged so far, across restarts.
func (b *Broker) Log() string { return b.log.String() }

// Stop stops the broker (SIGTERM, then SIGKILL if it has not exited after
// 5 s) and waits for it to exit. Clients see their connections closed and
// new connections refused until Restart. Stopping a stopped broker does
// nothing.
func (b *Broker) Stop() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stopLocked(stopTimeout)
}

// Restart stops the broker if it is running and starts it again on the same
// port, returning once the port accepts connections. Without persistence
// the new broker knows nothing of the old one's sessions.
func (b *Broker) Restart() error {
	if err := b.Stop(); err != nil {
		return err
	}
	// The port was just released; retry briefly in case the bind races
	// with the old process's sockets going away.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = b.start(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// SkipOrFail ends t: it skips when err wraps ErrNotInstalled and the
// environment variable CI is not true, and fails otherwise.
func SkipOrFail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNotInstalled) && !inCI() {
		t.Skipf("skipping: %v; install it with apt-get install %s (with CI=true this fails instead)", err, Package)
	}
	t.Fatal(err)
}

func inCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}
