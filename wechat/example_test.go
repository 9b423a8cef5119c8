package wechat_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
)

// A client with a token source gets phone numbers; here against the
// simulator, with the token in memory. Several instances would share a
// Redis-backed Store instead.
func ExampleTokenSource() {
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{"wxexample": "secret"}})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	c := &wechat.Client{AppID: "wxexample", Secret: "secret", BaseURL: srv.URL}
	c.Tokens = wechat.NewTokenSource(c, wechat.TokenOptions{})

	sim.Login("wxexample", "alice")                          // wx.login
	code, _, _, _ := sim.PhoneCode("wxexample", "alice")     // the getPhoneNumber button
	sim.RotateTokens("wxexample")                            // a token refused is renewed once
	pn, err := c.PhoneNumber(context.Background(), code, "") // getuserphonenumber
	fmt.Println(pn.CountryCode, len(pn.PurePhoneNumber), err)
	fmt.Println(c.Tokens.Stats().Fetches, sim.Stats().PhoneNumbers)
	// Output:
	// 86 11 <nil>
	// 1 1
}
