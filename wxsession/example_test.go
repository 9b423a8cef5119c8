package wxsession_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
)

func Example() {
	sessions := memstore.New()
	defer sessions.Close()
	m, err := wxsession.New(wxsession.Config{
		// In production: AppID and AppSecret instead of IgnoreSignature.
		IgnoreSignature: true,
		Store:           sessions,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if u, ok := wxsession.FromContext(r.Context()); ok {
			fmt.Fprintf(w, "hello %s (%s)", u.NickName, u.OpenID)
		}
	})
	handler := m.Handler(mux)

	// What a mini program's first request looks like:
	r := httptest.NewRequest("GET", "/me", nil)
	r.Header.Set("X-WX-Code", "0a1b2c")
	r.Header.Set("X-WX-RawData", url.PathEscape(`{"nickName":"Ada","avatarUrl":"https://a/b.png"}`))
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Println(w.Body)
	// Output: hello Ada (PSEUDO_OPENID_ff01c9083dfe33)
}
