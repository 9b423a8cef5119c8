package testenv

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// RawRequest sends head (request line and headers, each ending in CRLF)
// and body exactly as they are on a new connection to addr, so that
// broken framing reaches the server as a hostile client sends it; with
// closeWrite the client then ends its side, else it just waits. It returns
// the first answer's status line and the start of its body.
func RawRequest(t testing.TB, addr, head, body string, closeWrite bool) (status, answer string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, head+"\r\n"+body); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		c.(*net.TCPConn).CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	status, err = br.ReadString('\n')
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	// The rest of the answer, as far as it came.
	rest, _ := io.ReadAll(io.LimitReader(br, 4096))
	_, answer, _ = strings.Cut(string(rest), "\r\n\r\n")
	return strings.TrimSpace(status), answer
}
