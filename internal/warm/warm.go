package warm

import "unsafe"

// lineSize is the cache line of the processors h2pcap runs on (amd64 and
// arm64 servers): one load a line is enough.
const lineSize = 64

// Lines reads one word of every cache line of the size bytes at p, an
// object (or an array's elements) of at least that size, and returns
// their sum: the caller keeps it somewhere (a field) so that the loads
// are not left out. Go has no prefetch instruction to call; loads whose
// values nothing waits on soon are the nearest.
func Lines(p unsafe.Pointer, size uintptr) uintptr {
	var sum uintptr
	for off := uintptr(0); off+unsafe.Sizeof(sum) <= size; off += lineSize {
		sum += *(*uintptr)(unsafe.Add(p, off))
	}
	return sum
}

// Of is Lines of the object x points to.
func Of[T any](x *T) uintptr {
	if x == nil {
		return 0
	}
	return Lines(unsafe.Pointer(x), unsafe.Sizeof(*x))
}

// Slice is Lines of the elements of s (its length).
func Slice[T any](s []T) uintptr {
	if len(s) == 0 {
		return 0
	}
	var zero T
	return Lines(unsafe.Pointer(unsafe.SliceData(s)), uintptr(len(s))*unsafe.Sizeof(zero))
}
