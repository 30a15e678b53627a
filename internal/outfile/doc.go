// Package outfile creates the files h2pcap writes at a path the user gave
// (-o, live -w, live --save): a regular file, or none yet, is written to a
// temporary file beside it and renamed into place, so a failed run never
// leaves half a report; anything else (a device such as /dev/null, a FIFO,
// /dev/stdout) is opened and written in place. It never renames over, nor
// removes, anything that is not a regular file it made: run as root,
// `-o /dev/null` must leave the device a device.
//
// It never decides what is written, and never writes anywhere but the
// path it was given (and, for a regular file, a hidden temporary file
// beside it).
package outfile
