// Package pgtest starts throwaway PostgreSQL/PostGIS clusters for tests.
//
// A cluster is initdb'd into a short temporary directory, listens on a free
// port on 127.0.0.1 and on a unix socket in that directory, and is stopped
// (pg_ctl stop -m immediate) and removed when the test that started it ends.
// Every test gets its own database, created from a template that already has
// the postgis extension, so tests sharing a cluster never see each other's
// tables or notifications.
//
// initdb and postgres refuse to run as root; when the test runs as root
// (as in CI) they are run as the postgres system user through runuser.
//
// To share one cluster across a package's tests, call Main from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without it, every Start initdb's a cluster of its own (about 2 s each).
//
// When the server binaries or PostGIS are missing, Start skips the test with
// a message naming the Debian package (postgresql-15-postgis-3), except when
// the environment variable CI is true: CI installs the package, so a missing
// server there fails the test.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// Package is the Debian package that provides the server and PostGIS.
const Package = "postgresql-15-postgis-3"

// templateDB is the database every test database is copied from.
const templateDB = "citytwin_template"

// ErrNotInstalled reports that the PostgreSQL server binaries, the postgres
// system user (needed when running as root) or the PostGIS extension are
// missing.
var ErrNotInstalled = errors.New("PostgreSQL/PostGIS not installed (Debian package " + Package + ")")

// Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	dir    string // temp dir: data in dir/pg, socket in dir, log in dir/log
	bin    string // directory holding initdb, pg_ctl
	port   int
	asUser string // system user the server runs as ("" = the current user)
	admin  *sql.DB
	guard  *os.Process // stops the server if this process dies without Stop

	mu   sync.Mutex // serialises CREATE DATABASE from the template
	next int

	stopOnce sync.Once
	stopErr  error
}

// StartCluster initdb's and starts a cluster with a postgis template
// database. The caller must Stop it. Errors wrap ErrNotInstalled when the
// server or PostGIS is missing.
func StartCluster() (*Cluster, error) {
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the postgres system user: %w: %v", ErrNotInstalled, err)
		}
		c.asUser = "postgres"
	}
	if c.dir, err = shortTempDir(); err != nil {
		return nil, err
	}
	if err := c.init(); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	if err := c.start(); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	c.startGuard()
	if err := c.prepareTemplate(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// startGuard starts a detached shell that waits for this process to exit
// and then stops the server and removes its directory, so a test binary
// killed by a timeout or a signal (which skips t.Cleanup) leaves no server
// behind. Stop kills the guard. Failing to start it is not an error.
func (c *Cluster) startGuard() {
	stop := c.command("pg_ctl", "-D", filepath.Join(c.dir, "pg"), "-m", "immediate", "-w", "stop")
	quoted := make([]string, len(stop.Args))
	for i, a := range stop.Args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	script := fmt.Sprintf("while kill -0 %d 2>/dev/null; do sleep 1; done; cd /; %s; rm -rf '%s'",
		os.Getpid(), strings.Join(quoted, " "), c.dir)
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = stop.Env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err == nil {
		c.guard = cmd.Process
	}
}

// findBinDir locates initdb: $PG_BINDIR, Debian's /usr/lib/postgresql/15,
// then the newest /usr/lib/postgresql/*, then pg_config --bindir, then PATH.
func findBinDir() (string, error) {
	has := func(dir string) bool {
		_, e1 := os.Stat(filepath.Join(dir, "initdb"))
		_, e2 := os.Stat(filepath.Join(dir, "pg_ctl"))
		return e1 == nil && e2 == nil
	}
	if d := os.Getenv("PG_BINDIR"); d != "" {
		if has(d) {
			return d, nil
		}
		return "", fmt.Errorf("pgtest: PG_BINDIR=%s has no initdb and pg_ctl: %w", d, ErrNotInstalled)
	}
	if d := "/usr/lib/postgresql/15/bin"; has(d) {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); has(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("pgtest: initdb not found (looked in $PG_BINDIR, /usr/lib/postgresql/*/bin, pg_config --bindir, PATH): %w", ErrNotInstalled)
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// shortTempDir makes a temp dir with a short path (the unix socket path,
// dir/.s.PGSQL.NNNNN, must fit in 107 bytes). When running as root it is
// under /tmp, which the postgres user can reach, and owned by postgres.
func shortTempDir() (string, error) {
	base := os.TempDir()
	if os.Geteuid() == 0 || len(base) > 60 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "ctpg")
	if err != nil {
		return "", fmt.Errorf("pgtest: temp dir: %w", err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			err = os.Chown(dir, uid, gid)
		}
		if err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("pgtest: chown %s to postgres: %w", dir, err)
		}
	}
	return dir, nil
}

// command runs one of the cluster's binaries as the cluster's user.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir // the server user may not be able to enter our cwd
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	return cmd
}

func (c *Cluster) run(name string, args ...string) error {
	out, err := c.command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: %s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func (c *Cluster) init() error {
	return c.run("initdb", "-D", filepath.Join(c.dir, "pg"), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync")
}

// start starts the server on a free port, retrying if another process
// takes the port between our probe and the server's bind.
func (c *Cluster) start() error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if c.port, err = freePort(); err != nil {
			return err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", c.port, c.dir)
		if err = c.run("pg_ctl", "-D", filepath.Join(c.dir, "pg"), "-l", filepath.Join(c.dir, "log"),
			"-o", opts, "-t", "60", "-w", "start"); err == nil {
			break
		}
		if log, _ := os.ReadFile(filepath.Join(c.dir, "log")); len(log) > 0 {
			err = fmt.Errorf("%w\nserver log:\n%s", err, tail(log, 2000))
		}
	}
	if err != nil {
		return err
	}
	c.admin, err = sql.Open("postgres", c.url("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: open admin connection: %w", err)
	}
	c.admin.SetMaxOpenConns(2)
	return nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// prepareTemplate creates the template database with PostGIS.
func (c *Cluster) prepareTemplate() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.admin.ExecContext(ctx, "CREATE DATABASE "+templateDB); err != nil {
		return fmt.Errorf("pgtest: create template database: %w", err)
	}
	db, err := sql.Open("postgres", c.url(templateDB))
	if err != nil {
		return fmt.Errorf("pgtest: open template database: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE EXTENSION postgis"); err != nil {
		if pq.As(err, pqerror.UndefinedFile) != nil { // no postgis.control
			return fmt.Errorf("pgtest: CREATE EXTENSION postgis: %w: %v", ErrNotInstalled, err)
		}
		return fmt.Errorf("pgtest: CREATE EXTENSION postgis: %w", err)
	}
	return nil
}

// url returns a connection URL for a database of the cluster (over TCP).
func (c *Cluster) url(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Dir returns the cluster's directory, which also holds its unix socket.
func (c *Cluster) Dir() string { return c.dir }

// Port returns the TCP port the cluster listens on (127.0.0.1).
func (c *Cluster) Port() int { return c.port }

// CreateDatabase creates a fresh database with PostGIS and returns its URL.
// The caller owns it; DropDatabase removes it.
func (c *Cluster) CreateDatabase(ctx context.Context) (name, url string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	name = fmt.Sprintf("t%d", c.next)
	if _, err := c.admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templateDB); err != nil {
		return "", "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return name, c.url(name), nil
}

// DropDatabase drops a database made by CreateDatabase, closing any
// connections still open to it.
func (c *Cluster) DropDatabase(ctx context.Context, name string) error {
	if _, err := c.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", name, err)
	}
	return nil
}

// Database creates a fresh database for t and drops it when t ends.
func (c *Cluster) Database(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name, u, err := c.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.DropDatabase(ctx, name); err != nil {
			t.Error(err)
		}
	})
	return u
}

// Stop stops the server immediately and removes its directory. It is safe
// to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		if c.guard != nil {
			c.guard.Kill()
			c.guard.Wait()
		}
		if c.admin != nil {
			c.admin.Close()
		}
		err := c.run("pg_ctl", "-D", filepath.Join(c.dir, "pg"), "-m", "immediate", "-w", "stop")
		if rmErr := os.RemoveAll(c.dir); err == nil && rmErr != nil {
			err = fmt.Errorf("pgtest: remove %s: %w", c.dir, rmErr)
		}
		c.stopErr = err
	})
	return c.stopErr
}

// shared is the cluster Main shares between a test binary's tests. It is
// the one piece of package state: a test binary is one process with one
// set of tests, and TestMain is the only hook that runs after all of them.
var shared struct {
	mu      sync.Mutex
	enabled bool
	c       *Cluster
	err     error
}

// Main runs the tests of a package with one shared cluster, started by the
// first Start and stopped after all tests; it does not return. Call it
// from TestMain.
func Main(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	shared.mu.Lock()
	shared.enabled = true
	shared.mu.Unlock()
	defer func() {
		shared.mu.Lock()
		defer shared.mu.Unlock()
		if shared.c != nil {
			if err := shared.c.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
			shared.c = nil
		}
		shared.enabled = false
	}()
	return m.Run()
}

// sharedCluster returns the shared cluster, starting it on first use, or
// nil when Main is not in use.
func sharedCluster() (*Cluster, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.enabled {
		return nil, nil
	}
	if shared.c == nil && shared.err == nil {
		shared.c, shared.err = StartCluster()
	}
	return shared.c, shared.err
}

// Start returns the URL of a fresh PostGIS database for t, dropped when t
// ends. Under Main the database lives in the shared cluster; otherwise Start
// starts a cluster for t alone and stops it when t ends. Start skips t when
// PostgreSQL or PostGIS is not installed, unless CI is true, where it fails.
func Start(t testing.TB) string {
	t.Helper()
	c, err := sharedCluster()
	if c == nil && err == nil {
		c, err = StartCluster()
		if err == nil {
			t.Cleanup(func() {
				if err := c.Stop(); err != nil {
					t.Error(err)
				}
			})
		}
	}
	if err != nil {
		SkipOrFail(t, err)
	}
	return c.Database(t)
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
