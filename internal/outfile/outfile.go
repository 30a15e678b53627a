package outfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File is an output being written. Write to it, then Commit or Abort.
type File struct {
	*os.File
	target string // the path the user gave
	real   string // target with symbolic links followed: what is replaced
	tmp    string // the temporary file renamed to target; "" when written in place
	done   bool
}

// Create opens path for writing. Errors name path, never a temporary name.
func Create(path string) (*File, error) {
	real := path
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// A link is followed, and the file it names replaced, so the link
		// stays a link. /dev/stdout and /dev/fd/N name /proc/self/fd/N,
		// which is written in place even when it is a regular file: the
		// shell's redirection holds that file open.
		if real, err = filepath.EvalSymlinks(path); err != nil {
			real = path
		}
	}
	fi, err := os.Stat(real)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, &fs.PathError{Op: "open", Path: path, Err: errors.Unwrap(err)}
	}
	if (err == nil && !fi.Mode().IsRegular()) || inPlaceTree(path) || inPlaceTree(real) {
		// A device, a FIFO, a terminal or standard output: written in
		// place, opened as tee(1) opens its files.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
		if err != nil {
			return nil, err // a *PathError naming path
		}
		return &File{File: f, target: path}, nil
	}
	dir, base := filepath.Split(real)
	if dir == "" {
		dir = "."
	}
	// O_EXCL with a name of our own rather than os.CreateTemp: the kernel
	// then applies the umask to 0666, as os.Create would, where CreateTemp
	// makes every report 0600.
	var f *os.File
	for i := 0; ; i++ {
		tmp := filepath.Join(dir, fmt.Sprintf(".%s.%d-%d.tmp", base, os.Getpid(), i))
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i == 100 {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, &fs.PathError{Op: "create", Path: path, Err: err}
		}
	}
	if fi != nil {
		// Replacing a file keeps its permissions, as writing into it would.
		f.Chmod(fi.Mode().Perm())
	}
	return &File{File: f, target: path, real: real, tmp: f.Name()}, nil
}

// Name returns the path the user gave, not the temporary file's.
func (f *File) Name() string { return f.target }

// InPlace reports whether the file is written in place (not a regular file).
func (f *File) InPlace() bool { return f.tmp == "" }

// Commit closes the file and, for a regular file, renames it into place.
// After a failed Commit nothing is left at a temporary name.
func (f *File) Commit() error {
	if f.done {
		return errors.New("outfile: Commit after Commit or Abort")
	}
	f.done = true
	err := f.File.Close()
	if f.tmp == "" {
		return wrap(err, f.target)
	}
	if err == nil {
		err = os.Rename(f.tmp, f.real)
	}
	if err != nil {
		os.Remove(f.tmp)
	}
	return wrap(err, f.target)
}

// Abort closes the file and removes the temporary file, leaving the target
// as it was (a file written in place keeps what was written).
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	if f.tmp != "" {
		os.Remove(f.tmp)
	}
}

// wrap names the user's path in err when it does not already.
func wrap(err error, path string) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &le):
		return &fs.PathError{Op: "write", Path: path, Err: le.Err}
	case errors.As(err, &pe):
		return &fs.PathError{Op: pe.Op, Path: path, Err: pe.Err}
	}
	return fmt.Errorf("%s: %w", path, err)
}

// inPlaceTree reports whether path is under /proc or /dev, whose files are
// never replaced: /proc/self/fd/1 is whatever standard output is.
func inPlaceTree(path string) bool {
	return strings.HasPrefix(path, "/proc/") || strings.HasPrefix(path, "/dev/")
}
