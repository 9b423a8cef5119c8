package api

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/yibi/yibi/internal/paint"
)

// A stream writes one success answer that may be too large to hold whole
// (a list). It buffers up to streamBuffer bytes: an answer that fits goes
// out with a Content-Length, as a v1 answer did, and a store error met
// before the first flush can still be answered properly; a larger one is
// sent on as it is made, so a request holds about streamBuffer plus one
// paint, whatever the user's total. The answer is gzipped when the client
// accepts it and it is larger than minGzip.
type stream struct {
	w      http.ResponseWriter
	buf    *[]byte
	gzipOK bool
	gz     *gzip.Writer // once started, if gzipping
	out    bool         // headers sent
}

const (
	streamBuffer = 256 << 10
	// minGzip: below a packet or so, gzip saves nothing worth its time.
	minGzip = 1400
)

// streamBuffers and gzipWriters keep a stream's buffer and compressor
// between answers; buffers that grew past twice streamBuffer (a paint of
// over 256 KiB) are dropped, not kept.
var (
	streamBuffers = sync.Pool{New: func() any { b := make([]byte, 0, streamBuffer); return &b }}
	gzipWriters   = sync.Pool{New: func() any {
		// BestSpeed: lists are mostly digits and repeated keys, which even
		// the fastest level shrinks several times, at a fraction of the CPU
		// and memory of the default level.
		zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level cannot fail
		return zw
	}}
)

func newStream(w http.ResponseWriter, r *http.Request) *stream {
	b := streamBuffers.Get().(*[]byte)
	*b = (*b)[:0]
	return &stream{w: w, buf: b, gzipOK: acceptsGzip(r.Header.Values("Accept-Encoding"))}
}

// acceptsGzip reports whether Accept-Encoding lists gzip (or *) with a
// non-zero weight.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "gzip" && name != "*" {
				continue
			}
			q := strings.ReplaceAll(strings.ToLower(params), " ", "")
			if q == "q=0" || strings.HasPrefix(q, "q=0.") && strings.Trim(q[4:], "0") == "" {
				return false
			}
			return true
		}
	}
	return false
}

func (s *stream) append(b ...byte) { *s.buf = append(*s.buf, b...) }

func (s *stream) text(v string) { *s.buf = append(*s.buf, v...) }

func (s *stream) appendString(v string) { *s.buf = appendJSONString(*s.buf, v) }

// appendItem appends a v1 list item, {"id","actions"}, encoded by hand:
// the bytes encoding/json writes, without reflection and with a faster
// escape of the actions strings (appendJSONString), which were most of
// the encoding's time.
func (s *stream) appendItem(p paint.Paint) {
	b := append(*s.buf, `{"id":`...)
	b = appendJSONString(b, p.ID)
	b = append(b, `,"actions":`...)
	b = appendJSONString(b, p.Actions)
	*s.buf = append(b, '}')
}

func (s *stream) started() bool { return s.out }

// discard drops what was buffered, for an error answer instead.
func (s *stream) discard() { *s.buf = (*s.buf)[:0] }

// flushIfFull sends the buffer once it holds streamBuffer bytes. The
// error is the client's connection failing.
func (s *stream) flushIfFull() error {
	if len(*s.buf) < streamBuffer {
		return nil
	}
	if !s.out {
		s.start()
	}
	return s.flush()
}

func (s *stream) start() {
	s.out = true
	h := s.header()
	if s.gzipOK {
		h.Set("Content-Encoding", "gzip")
		s.gz = gzipWriters.Get().(*gzip.Writer)
		s.gz.Reset(s.w)
	}
	s.w.WriteHeader(http.StatusOK)
}

func (s *stream) header() http.Header {
	h := s.w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	return h
}

func (s *stream) flush() error {
	var err error
	if s.gz != nil {
		_, err = s.gz.Write(*s.buf)
	} else {
		_, err = s.w.Write(*s.buf)
	}
	*s.buf = (*s.buf)[:0]
	return err
}

// finish sends the rest of the answer.
func (s *stream) finish() {
	if s.out {
		if s.flush() == nil && s.gz != nil {
			_ = s.gz.Close()
		}
		return
	}
	if !s.gzipOK || len(*s.buf) < minGzip {
		writeJSON(s.w, http.StatusOK, *s.buf)
		return
	}
	// Small enough to compress whole and send with its length.
	zb := buffers.Get().(*bytes.Buffer)
	defer putBuffer(zb)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(zb)
	_, _ = zw.Write(*s.buf) // a bytes.Buffer does not fail
	_ = zw.Close()
	gzipWriters.Put(zw)
	h := s.header()
	h.Set("Content-Encoding", "gzip")
	h.Set("Content-Length", strconv.Itoa(zb.Len()))
	s.w.WriteHeader(http.StatusOK)
	_, _ = s.w.Write(zb.Bytes())
}

// release returns the stream's buffer and compressor to their pools.
func (s *stream) release() {
	if cap(*s.buf) <= 2*streamBuffer {
		streamBuffers.Put(s.buf)
	}
	if s.gz != nil {
		s.gz.Reset(nil)
		gzipWriters.Put(s.gz)
		s.gz = nil
	}
}
