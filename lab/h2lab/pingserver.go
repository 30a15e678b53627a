package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// runPingServer serves h2c with a bare http2.Framer and enforces a PING
// budget the way grpc-go's keepalive enforcement does: once a client has
// sent more PINGs than allowed it gets GOAWAY ENHANCE_YOUR_CALM with debug
// data "too_many_pings" and the connection is closed.
func runPingServer(args []string) error {
	fs := flag.NewFlagSet("pingserver", flag.ExitOnError)
	listen := fs.String("listen", ":8080", "h2c listen `address`")
	acks := fs.Int("acks", 5, "PINGs answered with an ACK on each connection before the GOAWAY")
	ackDelay := fs.Duration("ack-delay", 0, "wait this long before each PING ACK, as a far or busy server's ACK comes late")
	logPath := fs.String("log", "-", "JSON-lines log `file`")
	fs.Parse(args)

	log, err := openLog(*logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.info("listen", "pingserver h2c on "+ln.Addr().String())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		go func() {
			defer c.Close()
			if err := servePingConn(c, *acks, *ackDelay, log); err != nil {
				log.log(logEntry{Level: "info", Remote: c.RemoteAddr().String(), Op: "conn", Msg: err.Error()})
			}
		}()
	}
}

func servePingConn(c net.Conn, acks int, ackDelay time.Duration, log *jsonLog) error {
	remote := c.RemoteAddr().String()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil {
		return fmt.Errorf("read preface: %w", err)
	}
	if string(preface) != http2.ClientPreface {
		return fmt.Errorf("bad preface %q", preface)
	}
	fr := http2.NewFramer(c, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100}); err != nil {
		return fmt.Errorf("write SETTINGS: %w", err)
	}
	var (
		hbuf     bytes.Buffer
		enc      = hpack.NewEncoder(&hbuf)
		pings    int
		lastID   uint32
		response = []byte("ok from pingserver\n")
	)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return fmt.Errorf("read frame: %w", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := fr.WriteSettingsAck(); err != nil {
					return fmt.Errorf("write SETTINGS ACK: %w", err)
				}
			}
		case *http2.PingFrame:
			if f.IsAck() {
				continue
			}
			pings++
			if pings <= acks {
				// The read loop waits: nothing else to answer meanwhile.
				time.Sleep(ackDelay)
				if err := fr.WritePing(true, f.Data); err != nil {
					return fmt.Errorf("write PING ACK: %w", err)
				}
				continue
			}
			log.log(logEntry{Level: "info", Remote: remote, Op: "GOAWAY",
				Msg: fmt.Sprintf("PING %d over the budget of %d: GOAWAY ENHANCE_YOUR_CALM too_many_pings", pings, acks)})
			if err := fr.WriteGoAway(lastID, http2.ErrCodeEnhanceYourCalm, []byte("too_many_pings")); err != nil {
				return fmt.Errorf("write GOAWAY: %w", err)
			}
			// grpc-go closes right after flushing the GOAWAY.
			return nil
		case *http2.MetaHeadersFrame:
			id := f.StreamID
			lastID = id
			hbuf.Reset()
			enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "text/plain"})
			enc.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(response))})
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hbuf.Bytes(), EndHeaders: true}); err != nil {
				return fmt.Errorf("write HEADERS: %w", err)
			}
			if err := fr.WriteData(id, true, response); err != nil {
				return fmt.Errorf("write DATA: %w", err)
			}
		case *http2.GoAwayFrame:
			return fmt.Errorf("client sent GOAWAY %v", f.ErrCode)
		}
	}
}
