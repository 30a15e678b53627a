package main

import (
	"io"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// terminalWidth is the width the table report fits on w: the terminal's
// columns (COLUMNS when set, as `COLUMNS=100 h2pcap ...` asks, else the
// tty's size), or 0 when w is not a terminal: pipes and files keep the
// full width, for grep and for pasting.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !isTerminal(w) {
		return 0
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	var ws struct{ row, col, x, y uint16 }
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TIOCGWINSZ, uintptr(unsafe.Pointer(&ws))); errno != 0 {
		return 0
	}
	return int(ws.col)
}
