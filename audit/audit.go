// Package audit keeps the record of clerk-mcp's consequential API calls:
// one JSON line per mutating api call that was sent, declined or refused,
// in audit.jsonl in the config directory.
//
// A line says who asked (profile, MCP client), what (target, method, path,
// application and instance), how it ended (status, Clerk's trace id,
// duration) and how it was allowed or why it was refused. It never holds a
// request body, a query value or a credential: the log outlives the
// session it describes and is read by whoever can read the config
// directory.
//
// Several server processes append at once. Each line is written with one
// write on a file opened with O_APPEND, under a cross-process lock (flock)
// taken with a bounded wait; the lock also covers rotation, so that no
// process appends to a file another one is renaming away. At MaxSize the
// file is renamed to audit.jsonl.1, replacing the previous old file.
package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/clerk-mcp/clerk-mcp/internal/safetext"
	"github.com/clerk-mcp/clerk-mcp/store"
)

// File names inside the config directory.
const (
	FileName = "audit.jsonl"
	// OldSuffix is appended to FileName for the one rotated file kept.
	OldSuffix = ".1"
	lockName  = "audit.lock"
)

// MaxSize is the size at which the log is rotated.
const MaxSize = 10 << 20

// DefaultLockWait bounds the wait for another process's append. An append
// takes microseconds; a lock held this long belongs to a stuck process.
const DefaultLockWait = 5 * time.Second

// How allowed calls were allowed.
const (
	AllowedNotRequired = "not_required" // no confirmation needed under the policy
	AllowedElicited    = "elicited"     // the user said yes in the MCP client
	AllowedToken       = "token"        // the agent passed a confirmation token
)

// Why refused calls were refused; the values are envelope reasons.
const (
	RefusedDeclined             = "declined"
	RefusedReadOnly             = "read_only"
	RefusedInvalidInput         = "invalid_input"
	RefusedConfirmationRequired = "confirmation_required"
)

// ErrLockTimeout reports that another process held the audit lock for the
// whole wait.
var ErrLockTimeout = errors.New("timed out waiting for the audit log lock")

// Entry is one line of the log. Exactly one of Allowed and Refused is set.
type Entry struct {
	Time          time.Time `json:"time"`
	Profile       string    `json:"profile,omitempty"`
	Client        string    `json:"client,omitempty"`
	ClientVersion string    `json:"client_version,omitempty"`
	Target        string    `json:"target"`
	Method        string    `json:"method"`
	// Path is the API path sent (/v1/users/user_123), never a query.
	Path          string `json:"path,omitempty"`
	ApplicationID string `json:"application_id,omitempty"`
	Instance      string `json:"instance,omitempty"`
	// Status is Clerk's HTTP status; zero when no answer came.
	Status     int    `json:"status,omitempty"`
	TraceID    string `json:"clerk_trace_id,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Allowed    string `json:"allowed,omitempty"`
	Refused    string `json:"refused,omitempty"`
	// Error is the envelope reason of an allowed call that failed
	// (api_error, network_error, missing_secret_key...).
	Error string `json:"error,omitempty"`
}

// Field bounds: a client's name and an agent's path are the client's to
// choose, and a few long lines must not rotate the history away.
const (
	maxField = 128
	maxPath  = 512
)

// bounded returns e with every string cut to its bound, at a character
// boundary, marked with "…".
func (e Entry) bounded() Entry {
	for _, f := range []*string{&e.Profile, &e.Client, &e.ClientVersion, &e.Target, &e.Method,
		&e.ApplicationID, &e.Instance, &e.TraceID, &e.Allowed, &e.Refused, &e.Error} {
		*f = safetext.Truncate(*f, maxField)
	}
	e.Path = safetext.Truncate(e.Path, maxPath)
	return e
}

// Log is the audit log in one directory. Its zero value is not usable;
// see New.
type Log struct {
	dir string
	// MaxSize and LockWait default to the package's constants; tests
	// shrink them.
	MaxSize  int64
	LockWait time.Duration
	// Logger, when set, is where callers that cannot fail a call over the
	// log (the api tool, after Clerk answered) report a failed append.
	Logger *slog.Logger
}

// New returns the audit log kept in dir (the config directory).
func New(dir string) *Log {
	return &Log{dir: dir, MaxSize: MaxSize, LockWait: DefaultLockWait}
}

// Path returns the log file's path.
func (l *Log) Path() string { return filepath.Join(l.dir, FileName) }

// Append adds e as one line. Lines from any number of processes appending
// at once are neither lost nor interleaved.
func (l *Log) Append(ctx context.Context, e Entry) error {
	line, err := json.Marshal(e.bounded())
	if err != nil {
		return fmt.Errorf("encode audit entry: %w", err)
	}
	line = append(line, '\n')
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	unlock, err := l.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	path := l.Path()
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("audit log %s: %w", path, err)
	default:
		if err := regular(path, info); err != nil {
			return err
		}
		if info.Size() > 0 && info.Size()+int64(len(line)) > l.maxSize() {
			if err := l.rotate(path); err != nil {
				return err
			}
		}
	}
	return appendLine(path, line)
}

// rotate renames the full log over the old one. A symlink planted at the
// old file's name is replaced, not followed: rename acts on the name.
func (l *Log) rotate(path string) error {
	if err := os.Rename(path, path+OldSuffix); err != nil {
		return fmt.Errorf("rotate audit log: %w", err)
	}
	return nil
}

// appendLine writes line to path with one write on an O_APPEND file, so
// that even a writer without the lock (none in clerk-mcp) could not split
// it. The file is created 0600 and never opened through a symlink.
func appendLine(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		if isSymlinkErr(path) {
			return symlinkError(path)
		}
		return fmt.Errorf("open audit log: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit log %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("audit log %s: is not a regular file; refusing to write to it", path)
	}
	if info.Mode().Perm()&0o077 != 0 {
		// A file the user loosened, or one created under an odd umask:
		// the log names every consequential call, so keep it private.
		if err := f.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			f.Close()
			return fmt.Errorf("chmod audit log: %w", err)
		}
	}
	n, err := f.Write(line)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append to audit log: %w", err)
	}
	return nil
}

func regular(path string, info fs.FileInfo) error {
	if info.Mode()&fs.ModeSymlink != 0 {
		return symlinkError(path)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("audit log %s: is not a regular file; refusing to write to it", path)
	}
	return nil
}

func symlinkError(path string) error {
	return fmt.Errorf("audit log %s: is a symbolic link; refusing to follow it (remove it)", path)
}

func isSymlinkErr(path string) bool {
	info, err := os.Lstat(path)
	return err == nil && info.Mode()&fs.ModeSymlink != 0
}

func (l *Log) maxSize() int64 {
	if l.MaxSize > 0 {
		return l.MaxSize
	}
	return MaxSize
}

// lock takes the cross-process audit lock, waiting at most LockWait.
func (l *Log) lock(ctx context.Context) (unlock func(), err error) {
	path := filepath.Join(l.dir, lockName)
	wait := l.LockWait
	if wait <= 0 {
		wait = DefaultLockWait
	}
	unlock, _, err = store.LockFile(ctx, path, wait, nil)
	if errors.Is(err, store.ErrLockTimeout) {
		return nil, fmt.Errorf("%w (%s, waited %s)", ErrLockTimeout, path, wait)
	}
	if err != nil {
		return nil, fmt.Errorf("audit lock: %w", err)
	}
	return unlock, nil
}

// maxLine bounds one line read back; an entry is a few hundred bytes.
const maxLine = 64 << 10

// Recent returns the last n entries, oldest first, from the rotated file
// and the current one (n <= 0: all of them). Lines that do not decode
// (a file edited by hand) are skipped. A missing log is no entries.
func (l *Log) Recent(n int) ([]Entry, error) {
	var all []Entry
	for _, path := range []string{l.Path() + OldSuffix, l.Path()} {
		entries, err := readEntries(path)
		if err != nil {
			return nil, err
		}
		all = append(all, entries...)
	}
	if n > 0 && len(all) > n {
		all = all[len(all)-n:]
	}
	return all, nil
}

// readLine returns the next line of r, or nil for a line longer than
// maxLine, which is skipped whole: one oversized line (written by an older
// version, or planted) must not hide the entries after it.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	tooLong := false
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > maxLine {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return nil, err
		}
		return bytes.TrimSpace(line), err
	}
}

func readEntries(path string) ([]Entry, error) {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	if err := regular(path, info); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	defer f.Close()
	var out []Entry
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := readLine(r)
		if len(line) > 0 {
			var e Entry
			if json.Unmarshal(line, &e) == nil {
				out = append(out, e)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read audit log %s: %w", path, err)
		}
	}
	return out, nil
}
