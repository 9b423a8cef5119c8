package memstore_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
)

// loginSession returns the session a login of user i stores: its user
// decoded from rawData like the middleware does (so every string is its
// own allocation, as in a real process), a 24-character session_key.
func loginSession(b *testing.B, i int) wxsession.Session {
	raw := fmt.Sprintf(`{"nickName":"用户%d","gender":%d,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"China","avatarUrl":"https://wx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTKicng7ZDibsS2mQicBkibzEZ0wNm0ibbqMz0L1kibXqiaHzuoWd0ZT%08d/132"}`, i, i%3, i)
	var u wxsession.User
	if err := u.UnmarshalJSON([]byte(raw)); err != nil {
		b.Fatal(err)
	}
	u.OpenID = fmt.Sprintf("oBench%022d", i)
	key := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "key-%012d", i)[:16])
	return wxsession.Session{User: u, SessionKey: key, CreatedAt: time.Now()}
}

// BenchmarkHeap100k reports the heap that 100,000 live sessions of
// realistic size take (the target is at most 100 MB): heap-MB for all of
// them and heap-B/session, measured after a GC, store and sessions
// included. Each op fills a new store.
func BenchmarkHeap100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	var perSession, total float64
	for b.Loop() {
		b.StopTimer()
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		b.StartTimer()
		s := memstore.New()
		for i := range n {
			if err := s.Login(ctx, fmt.Sprintf("%032x", i), loginSession(b, i), time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		if live, err := s.Len(ctx); err != nil || live != n {
			b.Fatalf("live sessions: got %d, %v, want %d", live, err, n)
		}
		used := float64(m1.HeapAlloc) - float64(m0.HeapAlloc)
		perSession, total = max(perSession, used/n), max(total, used/1e6)
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.ReportMetric(total, "heap-MB")
	b.ReportMetric(perSession, "heap-B/session")
}

// BenchmarkGet measures Get of a live session among 100,000, from
// parallel goroutines: the store's part of every request with a session.
func BenchmarkGet(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	s := memstore.New()
	for i := range n {
		if err := s.Login(ctx, fmt.Sprintf("%032x", i), loginSession(b, i), time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		codes := make([]string, 1024)
		for j := range codes {
			codes[j] = fmt.Sprintf("%032x", (j*7919)%n)
		}
		for pb.Next() {
			if _, found, err := s.Get(ctx, codes[i%len(codes)]); !found || err != nil {
				b.Fatalf("Get: found %v, err %v", found, err)
			}
			i++
		}
	})
}

// BenchmarkLogin measures storing a session (revoking the user's previous
// one) in a store of 10,000 users.
func BenchmarkLogin(b *testing.B) {
	const users = 10_000
	ctx := context.Background()
	s := memstore.New()
	sessions := make([]wxsession.Session, users)
	for i := range sessions {
		sessions[i] = loginSession(b, i)
	}
	codes := make([]string, 4*users)
	for i := range codes {
		codes[i] = fmt.Sprintf("%032x", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.Login(ctx, codes[i%len(codes)], sessions[i%users], time.Hour); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
