package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/yibi/yibi/internal/config"
	"github.com/yibi/yibi/wechat/wechatsim"
)

// This file is an outside tester's sweep (issue 10, "Done when"): every
// route added since v1 gets malformed input, with and without a session,
// and must answer below 500, in its documented envelope, without an ERROR
// log line, and without growing the metrics with the made-up values.

// auth is who sends a hostile request.
type auth int

const (
	anonymous auth = iota
	v1Session      // X-WX-Code of a logged-in 2016 client
	v2Session      // Authorization: Bearer of a v2 login
)

func (a auth) String() string { return [...]string{"anonymous", "v1", "v2"}[a] }

// hostileCase is one malformed request. path is relative to the server,
// "{base}" stands for the route base path and "{id}" for a paint of the
// caller (one of an anonymous caller is simply unknown).
type hostileCase struct {
	name        string
	method      string
	path        string
	header      http.Header
	contentType string
	body        func() []byte
	auths       []auth // default: all three
	binary      bool   // a 200 may be an image or a page, not JSON
	want        int    // the documented status; 0: any below 500
	notIn       string // the answer must not hold this (a reflected input)
}

// hostileCases are the sweep's requests; r makes the made-up values
// (tokens, names, ids, cursors), fresh for each sweep.
func hostileCases(r *rand.Rand) []hostileCase {
	pick := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	word := func(n int) string { return pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", n) }
	hexWord := func(n int) string { return pick("0123456789abcdef", n) }
	raw := func(s string) func() []byte { return func() []byte { return []byte(s) } }
	js := func(v any) func() []byte {
		return func() []byte {
			b, err := json.Marshal(v)
			if err != nil {
				panic(err)
			}
			return b
		}
	}
	big := strings.Repeat("x", 10<<10)
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	deepObj := strings.Repeat(`{"a":`, 50000) + "1" + strings.Repeat("}", 50000)

	// Multipart bodies as wx.uploadFile sends them, and worse.
	png := tinyPNG()
	type part struct{ name, file, content string }
	form := func(parts ...part) (string, func() []byte) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, p := range parts {
			h := textproto.MIMEHeader{}
			if p.file != "" {
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.file))
				h.Set("Content-Type", "application/octet-stream")
			} else {
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
			}
			w, _ := mw.CreatePart(h)
			io.WriteString(w, p.content)
		}
		mw.Close()
		b := buf.Bytes()
		return mw.FormDataContentType(), func() []byte { return b }
	}
	twoAvatarsCT, twoAvatars := form(part{"avatar", "a.png", png}, part{"avatar", "b.png", png})
	bigNickCT, bigNick := form(part{"nickName", "", big})
	ctrlNickCT, ctrlNick := form(part{"nickName", "", "a\x00b\x1b[31m"})
	emptyFileCT, emptyFile := form(part{"avatar", "a.png", ""})
	notImageCT, notImage := form(part{"avatar", "a.png", "<?php echo 1; ?>"})
	hugeFieldCT, hugeField := form(part{"other", "", strings.Repeat("y", 3<<20)})
	hugeAvatarCT, hugeAvatar := form(part{"avatar", "a.png", png + strings.Repeat("\x00", 3<<20)})
	noPartsCT, noParts := form()
	okNickCT, okNick := form(part{"nickName", "", "小明"})

	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	const jsonCT, formCT = "application/json", "application/x-www-form-urlencoded"
	cursor := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	none := []auth{anonymous}
	token := word(24)

	return []hostileCase{
		// v2 login (POST {base}/session/login).
		{name: "LoginNoBody", method: "POST", path: "{base}/session/login", contentType: jsonCT, auths: none},
		{name: "LoginEmptyCode", method: "POST", path: "{base}/session/login", contentType: jsonCT, body: js(map[string]string{"code": ""}), auths: none},
		{name: "LoginCodeNumber", method: "POST", path: "{base}/session/login", contentType: jsonCT, body: raw(`{"code":123}`), auths: none},
		{name: "LoginCodeHuge", method: "POST", path: "{base}/session/login", contentType: jsonCT, body: js(map[string]string{"code": big}), auths: none},
		{name: "LoginCodeMadeUp", method: "POST", path: "{base}/session/login", contentType: jsonCT, body: js(map[string]string{"code": word(32)}), auths: none},
		{name: "LoginCodeControl", method: "POST", path: "{base}/session/login", contentType: jsonCT, body: js(map[string]string{"code": "a\x00\r\nb"}), auths: none},
		{name: "LoginForm", method: "POST", path: "{base}/session/login", contentType: formCT, body: raw("code=%zz&code=2"), auths: none},
		{name: "LoginTextPlain", method: "POST", path: "{base}/session/login", contentType: "text/plain", body: raw(`{"code":"x"}`), auths: none},
		{name: "LoginNoContentType", method: "POST", path: "{base}/session/login", body: raw(`{"code":"x"}`), auths: none},
		{name: "LoginDeepJSON", method: "POST", path: "{base}/session/login", contentType: jsonCT, body: raw(deepObj), auths: none},
		{name: "LoginTooLarge", method: "POST", path: "{base}/session/login", contentType: jsonCT, body: raw(`{"code":"` + strings.Repeat("x", 1<<20+1) + `"}`), auths: none},
		{name: "LoginInvalidUTF8", method: "POST", path: "{base}/session/login", contentType: jsonCT, body: raw("{\"code\":\"\xff\xfe\"}"), auths: none},
		{name: "LoginWithBearer", method: "POST", path: "{base}/session/login", header: h("Authorization", "Bearer "+word(43)), contentType: jsonCT, body: js(map[string]string{"code": word(32)}), auths: none},
		{name: "LoginGet", method: "GET", path: "{base}/session/login", auths: none, want: 405},

		// logout, anonymous (the session's own logout runs after the sweep).
		{name: "Logout", method: "POST", path: "{base}/session/logout", auths: none},
		{name: "LogoutAll", method: "POST", path: "{base}/session/logout?all=1", auths: none},
		{name: "LogoutAllGarbage", method: "POST", path: "{base}/session/logout?all=%ff&all=2", auths: none},
		{name: "LogoutGet", method: "GET", path: "{base}/session/logout?all=1", auths: none, want: 405},
		{name: "LogoutMadeUpToken", method: "POST", path: "{base}/session/logout", header: h("Authorization", "Bearer "+word(43)), auths: none},

		// me.
		{name: "Me", method: "GET", path: "{base}/session/me"},
		{name: "MePost", method: "POST", path: "{base}/session/me", want: 405},

		// profile.
		{name: "ProfileNickOK", method: "POST", path: "{base}/session/profile", contentType: okNickCT, body: okNick},
		{name: "ProfileJSONNickHuge", method: "POST", path: "{base}/session/profile", contentType: jsonCT, body: js(map[string]string{"nickName": big})},
		{name: "ProfileJSONNickControl", method: "POST", path: "{base}/session/profile", contentType: jsonCT, body: js(map[string]string{"nickName": "a\u0000\u202eb"})},
		{name: "ProfileJSONNickNumber", method: "POST", path: "{base}/session/profile", contentType: jsonCT, body: raw(`{"nickName":7}`)},
		{name: "ProfileJSONBroken", method: "POST", path: "{base}/session/profile", contentType: jsonCT, body: raw(`{"nickName":`)},
		{name: "ProfileJSONDeep", method: "POST", path: "{base}/session/profile", contentType: jsonCT, body: raw(deep)},
		{name: "ProfileMultipartNoBoundary", method: "POST", path: "{base}/session/profile", contentType: "multipart/form-data", body: raw("--x\r\n\r\n")},
		{name: "ProfileMultipartGarbage", method: "POST", path: "{base}/session/profile", contentType: "multipart/form-data; boundary=zz", body: raw("not multipart at all")},
		{name: "ProfileMultipartTruncated", method: "POST", path: "{base}/session/profile", contentType: twoAvatarsCT, body: func() []byte { return twoAvatars()[:len(twoAvatars())/2] }},
		{name: "ProfileTwoAvatars", method: "POST", path: "{base}/session/profile", contentType: twoAvatarsCT, body: twoAvatars},
		{name: "ProfileNickField10KB", method: "POST", path: "{base}/session/profile", contentType: bigNickCT, body: bigNick},
		{name: "ProfileNickFieldControl", method: "POST", path: "{base}/session/profile", contentType: ctrlNickCT, body: ctrlNick},
		{name: "ProfileEmptyFile", method: "POST", path: "{base}/session/profile", contentType: emptyFileCT, body: emptyFile},
		{name: "ProfileNotImage", method: "POST", path: "{base}/session/profile", contentType: notImageCT, body: notImage},
		{name: "ProfileHugeField", method: "POST", path: "{base}/session/profile", contentType: hugeFieldCT, body: hugeField},
		{name: "ProfileHugeAvatar", method: "POST", path: "{base}/session/profile", contentType: hugeAvatarCT, body: hugeAvatar},
		{name: "ProfileNoParts", method: "POST", path: "{base}/session/profile", contentType: noPartsCT, body: noParts},
		{name: "ProfileWrongType", method: "POST", path: "{base}/session/profile", contentType: "text/plain", body: raw("nickName=x")},
		{name: "ProfileTwoTypes", method: "POST", path: "{base}/session/profile", contentType: "application/json, multipart/form-data", body: raw(`{"nickName":"x"}`)},
		{name: "ProfileNoType", method: "POST", path: "{base}/session/profile", body: raw(`{"nickName":"x"}`)},

		// avatars (public).
		{name: "AvatarTraversal", method: "GET", path: "{base}/session/avatars/..%2f..%2fetc%2fpasswd", auths: none},
		{name: "AvatarDotDot", method: "GET", path: "{base}/session/avatars/..", auths: none},
		{name: "AvatarBadName", method: "GET", path: "{base}/session/avatars/" + word(8) + ".png", auths: none},
		{name: "AvatarGIF", method: "GET", path: "{base}/session/avatars/" + hexWord(32) + ".gif", auths: none},
		{name: "AvatarUnknown", method: "GET", path: "{base}/session/avatars/" + hexWord(32) + ".png", auths: none, want: 404},
		{name: "AvatarHugeName", method: "GET", path: "{base}/session/avatars/" + strings.Repeat(hexWord(32), 200) + ".png", auths: none},
		{name: "AvatarNUL", method: "GET", path: "{base}/session/avatars/%00.png", auths: none},
		{name: "AvatarEmpty", method: "GET", path: "{base}/session/avatars/", auths: none},
		{name: "AvatarPost", method: "POST", path: "{base}/session/avatars/" + hexWord(32) + ".png", auths: none, want: 405},

		// phone.
		{name: "PhoneEmpty", method: "POST", path: "{base}/session/phone", contentType: jsonCT, body: raw(`{}`)},
		{name: "PhoneCodeNumber", method: "POST", path: "{base}/session/phone", contentType: jsonCT, body: raw(`{"code":1}`)},
		{name: "PhoneCodeHuge", method: "POST", path: "{base}/session/phone", contentType: jsonCT, body: js(map[string]string{"code": big})},
		{name: "PhoneCodeMadeUp", method: "POST", path: "{base}/session/phone", contentType: jsonCT, body: js(map[string]string{"code": word(32)})},
		{name: "PhoneBroken", method: "POST", path: "{base}/session/phone", contentType: jsonCT, body: raw(`{"code"`)},
		{name: "PhoneTextPlain", method: "POST", path: "{base}/session/phone", contentType: "text/plain", body: raw(`{"code":"x"}`)},

		// decrypt.
		{name: "DecryptEmpty", method: "POST", path: "{base}/session/decrypt", contentType: jsonCT, body: raw(`{}`)},
		{name: "DecryptNotBase64", method: "POST", path: "{base}/session/decrypt", contentType: jsonCT, body: js(map[string]string{"encryptedData": "!!!", "iv": "???"})},
		{name: "DecryptShortIV", method: "POST", path: "{base}/session/decrypt", contentType: jsonCT, body: js(map[string]string{"encryptedData": base64.StdEncoding.EncodeToString(make([]byte, 32)), "iv": "AAAA"})},
		{name: "DecryptNotBlocks", method: "POST", path: "{base}/session/decrypt", contentType: jsonCT, body: js(map[string]string{"encryptedData": base64.StdEncoding.EncodeToString(make([]byte, 17)), "iv": base64.StdEncoding.EncodeToString(make([]byte, 16))})},
		{name: "DecryptGarbageBlocks", method: "POST", path: "{base}/session/decrypt", contentType: jsonCT, body: js(map[string]string{"encryptedData": base64.StdEncoding.EncodeToString(make([]byte, 64)), "iv": base64.StdEncoding.EncodeToString(make([]byte, 16))})},
		{name: "DecryptHuge", method: "POST", path: "{base}/session/decrypt", contentType: jsonCT, body: js(map[string]string{"encryptedData": strings.Repeat("A", 70<<10), "iv": "x"})},
		{name: "DecryptTypes", method: "POST", path: "{base}/session/decrypt", contentType: jsonCT, body: raw(`{"encryptedData":[1],"iv":{}}`)},

		// append.
		{name: "AppendRevNegative", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"{id}","rev":-1,"actions":[]}`), want: 400},
		{name: "AppendRevHuge", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"{id}","rev":1e300,"actions":[]}`)},
		{name: "AppendRevBeyondInt64", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"{id}","rev":99999999999999999999,"actions":[]}`)},
		{name: "AppendRevMaxInt64", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"{id}","rev":9223372036854775807,"actions":[{"method":"stroke","data":[]}]}`)},
		{name: "AppendRevFloat", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"{id}","rev":1.5,"actions":[]}`)},
		{name: "AppendRevString", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"{id}","rev":"1","actions":[]}`)},
		{name: "AppendRevNull", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"{id}","rev":null,"actions":[]}`)},
		{name: "AppendActionsObject", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"{id}","rev":1,"actions":{"method":"stroke"}}`)},
		{name: "AppendActionsString", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"{id}","rev":1,"actions":"[]"}`)},
		{name: "AppendActionsDeep", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"{id}","rev":1,"actions":` + deep + `}`)},
		{name: "AppendBodyDeep", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(deepObj)},
		{name: "AppendActionsOverMiB", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"{id}","rev":1,"actions":["` + strings.Repeat("x", 1<<20+1) + `"]}`)},
		{name: "AppendBodyOver2MiB", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"{id}","rev":1,"actions":["` + strings.Repeat("x", 2<<20+1) + `"]}`), want: 413},
		{name: "AppendIDTraversal", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"../../x","rev":0,"actions":[]}`), want: 400},
		{name: "AppendIDHuge", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: js(map[string]any{"id": big, "rev": 0, "actions": []any{}}), want: 400},
		{name: "AppendIDNumber", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":12,"rev":0,"actions":[]}`)},
		{name: "AppendIDUnicode", method: "POST", path: "{base}/session/paints/append", contentType: jsonCT, body: raw(`{"id":"画\u0000","rev":0,"actions":[]}`), want: 400},
		{name: "AppendForm", method: "POST", path: "{base}/session/paints/append", contentType: formCT, body: raw("id=x&rev=0&actions=[]"), want: 415},
		{name: "AppendTwoTypes", method: "POST", path: "{base}/session/paints/append", header: h("Content-Type", jsonCT, "Content-Type", formCT), body: raw(`{"id":"{id}","rev":1,"actions":[]}`), want: 415},

		// get.
		{name: "GetNoID", method: "GET", path: "{base}/session/paints/get"},
		{name: "GetIDTraversal", method: "GET", path: "{base}/session/paints/get?id=..%2f..%2fetc"},
		{name: "GetIDHuge", method: "GET", path: "{base}/session/paints/get?id=" + big},
		{name: "GetIDUnknown", method: "GET", path: "{base}/session/paints/get?id=" + word(36)},
		{name: "GetIDTwice", method: "GET", path: "{base}/session/paints/get?id={id}&id=" + word(10)},

		// list pages.
		{name: "ListLimitNegative", method: "GET", path: "{base}/session/paints/list?limit=-1"},
		{name: "ListLimitZero", method: "GET", path: "{base}/session/paints/list?limit=0"},
		{name: "ListLimitHuge", method: "GET", path: "{base}/session/paints/list?limit=1000000000"},
		{name: "ListLimitBeyondInt64", method: "GET", path: "{base}/session/paints/list?limit=99999999999999999999"},
		{name: "ListLimitFloat", method: "GET", path: "{base}/session/paints/list?limit=1.5"},
		{name: "ListLimitWord", method: "GET", path: "{base}/session/paints/list?limit=NaN"},
		{name: "ListCursorGarbage", method: "GET", path: "{base}/session/paints/list?limit=1&cursor=" + word(40)},
		{name: "ListCursorNoColon", method: "GET", path: "{base}/session/paints/list?limit=1&cursor=" + cursor("123")},
		{name: "ListCursorBadTime", method: "GET", path: "{base}/session/paints/list?limit=1&cursor=" + cursor("-99999999999999999999:x")},
		{name: "ListCursorBadID", method: "GET", path: "{base}/session/paints/list?limit=1&cursor=" + cursor("1:../\x00")},
		{name: "ListCursorFarFuture", method: "GET", path: "{base}/session/paints/list?limit=1&cursor=" + cursor("9223372036854775807:a")},
		{name: "ListCursorHuge", method: "GET", path: "{base}/session/paints/list?cursor=" + cursor(strings.Repeat("1", 8<<10)+":a")},
		{name: "ListCursorAlone", method: "GET", path: "{base}/session/paints/list?cursor=" + cursor("1:a")},

		// image.
		{name: "ImageW0", method: "GET", path: "{base}/session/paints/image?id={id}&w=0", binary: true},
		{name: "ImageWNegative", method: "GET", path: "{base}/session/paints/image?id={id}&w=-1", binary: true},
		{name: "ImageWHuge", method: "GET", path: "{base}/session/paints/image?id={id}&w=1000000000", binary: true},
		{name: "ImageWBeyondInt64", method: "GET", path: "{base}/session/paints/image?id={id}&w=99999999999999999999", binary: true},
		{name: "ImageWNaN", method: "GET", path: "{base}/session/paints/image?id={id}&w=NaN", binary: true},
		{name: "ImageWFloat", method: "GET", path: "{base}/session/paints/image?id={id}&w=1e9", binary: true},
		{name: "ImageGIF", method: "GET", path: "{base}/session/paints/image?id={id}&format=gif", binary: true},
		{name: "ImageFormatEmpty", method: "GET", path: "{base}/session/paints/image?id={id}&format=", binary: true},
		{name: "ImageNoID", method: "GET", path: "{base}/session/paints/image", binary: true},
		{name: "ImageUnknownID", method: "GET", path: "{base}/session/paints/image?id=" + word(20), binary: true},
		{name: "ImageIfNoneMatchHuge", method: "GET", path: "{base}/session/paints/image?id={id}", header: h("If-None-Match", big), binary: true},

		// share and unshare.
		{name: "ShareEmpty", method: "POST", path: "{base}/session/paints/share", contentType: jsonCT, body: raw(`{}`)},
		{name: "ShareUnknown", method: "POST", path: "{base}/session/paints/share", contentType: jsonCT, body: js(map[string]string{"id": word(20)})},
		{name: "ShareBadID", method: "POST", path: "{base}/session/paints/share", contentType: jsonCT, body: raw(`{"id":"a/b"}`)},
		{name: "ShareIDArray", method: "POST", path: "{base}/session/paints/share", contentType: jsonCT, body: raw(`{"id":["{id}"]}`)},
		{name: "ShareTextPlain", method: "POST", path: "{base}/session/paints/share", contentType: "text/plain", body: raw(`{"id":"{id}"}`)},
		{name: "ShareFormTwice", method: "POST", path: "{base}/session/paints/share", contentType: formCT, body: raw("id={id}&id=%zz")},
		{name: "UnshareEmpty", method: "POST", path: "{base}/session/paints/unshare", contentType: jsonCT, body: raw(`{}`)},
		{name: "UnshareUnknown", method: "POST", path: "{base}/session/paints/unshare", contentType: jsonCT, body: js(map[string]string{"id": word(20)})},
		{name: "UnshareBroken", method: "POST", path: "{base}/session/paints/unshare", contentType: jsonCT, body: raw(`{"id":`)},

		// public share links, garbage tokens.
		{name: "ShareLinkMadeUp", method: "GET", path: "/s/" + token, auths: none, want: 404},
		{name: "ShareLinkMadeUpPNG", method: "GET", path: "/s/" + token + ".png", auths: none, want: 404},
		{name: "ShareLinkMadeUpJSON", method: "GET", path: "/s/" + token + ".json", auths: none, want: 404},
		{name: "ShareLinkShort", method: "GET", path: "/s/" + word(5), auths: none, want: 404},
		{name: "ShareLinkHuge", method: "GET", path: "/s/" + word(10<<10) + ".png", auths: none, want: 404},
		{name: "ShareLinkNUL", method: "GET", path: "/s/%00" + word(23) + ".json", auths: none, want: 404},
		{name: "ShareLinkTraversal", method: "GET", path: "/s/..%2f..%2f" + word(18), auths: none, want: 404},
		{name: "ShareLinkDoubleExt", method: "GET", path: "/s/" + token + ".png.json", auths: none, want: 404},
		{name: "ShareLinkEmpty", method: "GET", path: "/s/", auths: none},
		{name: "ShareLinkPost", method: "POST", path: "/s/" + token, auths: none, want: 405},
		// {token} is a real link (of the v1 caller's paint), with junk around it.
		{name: "ShareLinkUpperExt", method: "GET", path: "/s/{token}.PNG", auths: none, want: 404},
		{name: "ShareLinkExtraSegment", method: "GET", path: "/s/{token}.png/x", auths: none, want: 404},
		{name: "ShareLinkIfNoneMatchJunk", method: "GET", path: "/s/{token}.png", header: h("If-None-Match", `"`+big), auths: none, binary: true, want: 200},
		{name: "ShareLinkForwardedJunk", method: "GET", path: "/s/{token}", header: h("X-Forwarded-Proto", "javascript", "X-Forwarded-Host", "<x>"), auths: none, binary: true, want: 200, notIn: "javascript"},
		{name: "ShareLinkHead", method: "HEAD", path: "/s/{token}.json", auths: none, want: 200},

		// Authorization and the v1 headers, alone and together.
		{name: "AuthEmptyBearer", method: "GET", path: "{base}/session/me", header: h("Authorization", "Bearer ")},
		{name: "AuthBearerAlone", method: "GET", path: "{base}/session/me", header: h("Authorization", "Bearer")},
		{name: "AuthHugeToken", method: "GET", path: "{base}/session/paints/list", header: h("Authorization", "Bearer "+word(10<<10))},
		{name: "AuthTwoHeaders", method: "GET", path: "{base}/session/me", header: h("Authorization", "Bearer "+word(43), "Authorization", "Bearer "+word(43))},
		{name: "AuthBearerSpaces", method: "GET", path: "{base}/session/me", header: h("Authorization", "Bearer   "+word(10)+"  "+word(10))},
		{name: "AuthBasic", method: "GET", path: "{base}/session/me", header: h("Authorization", "Basic dXNlcjpwYXNz")},
		{name: "AuthSchemeOnly", method: "GET", path: "{base}/session/me", header: h("Authorization", "Digest")},
		{name: "AuthControl", method: "GET", path: "{base}/session/me", header: h("Authorization", "Bearer a\tb")},
		{name: "AuthLowercaseMadeUp", method: "GET", path: "{base}/session/paints/list", header: h("Authorization", "bearer "+word(43))},
		{name: "AuthAndWXCode", method: "GET", path: "{base}/session/paints/list", header: h("Authorization", "Bearer "+word(43), "X-WX-Code", word(32))},
		{name: "AuthAndV1Login", method: "POST", path: "{base}/session/profile", header: h("Authorization", "Bearer "+word(43), "X-WX-Code", word(32), "X-WX-RawData", "%7B%7D", "X-WX-Signature", hexWord(40)), contentType: jsonCT, body: raw(`{"nickName":"x"}`)},
		{name: "WXCodeHuge", method: "GET", path: "{base}/session/me", header: h("X-WX-Code", word(10<<10)), auths: none},
		{name: "WXCodeTwice", method: "GET", path: "{base}/session/me", header: h("X-WX-Code", word(32), "X-WX-Code", word(32)), auths: none},
		{name: "WXRawDataNotEncoded", method: "GET", path: "{base}/session/me", header: h("X-WX-Code", word(32), "X-WX-RawData", "%zz", "X-WX-Signature", "x"), auths: none},
		{name: "WXRawDataNotJSON", method: "GET", path: "{base}/session/me", header: h("X-WX-Code", word(32), "X-WX-RawData", url.QueryEscape(deepObj[:4000]), "X-WX-Signature", hexWord(40)), auths: none},
		{name: "WXRawDataAlone", method: "GET", path: "{base}/session/me", header: h("X-WX-RawData", "%7B%7D"), auths: none},
		{name: "WXSignatureWrong", method: "POST", path: "{base}/session/decrypt", header: h("X-WX-Code", word(32), "X-WX-RawData", "%7B%22nickName%22%3A%22x%22%7D", "X-WX-Signature", hexWord(40)), contentType: jsonCT, body: raw(`{}`), auths: none},

		// A made-up method on a v2 route.
		{name: "MadeUpMethod", method: strings.ToUpper(word(6)), path: "{base}/session/profile", want: 405},
	}
}

// tinyPNG is a 1×1 PNG.
func tinyPNG() string {
	b, _ := base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
	return string(b)
}

// hostileTarget is a running server under test and its callers.
type hostileTarget struct {
	url     string
	clients map[auth]*client
	ids     map[auth]string // a paint of each caller
	token   string          // the share link of the v1 caller's paint
}

// sweep sends every case as every caller it names, checking each answer.
func (tg *hostileTarget) sweep(t *testing.T, cases []hostileCase) {
	t.Helper()
	for _, c := range cases {
		auths := c.auths
		if auths == nil {
			auths = []auth{anonymous, v1Session, v2Session}
		}
		for _, who := range auths {
			t.Run(c.name+"/"+who.String(), func(t *testing.T) {
				id := tg.ids[who]
				path := strings.NewReplacer("{base}", "/applet", "{id}", id, "{token}", tg.token).Replace(c.path)
				header := http.Header{}
				if cl := tg.clients[who]; cl != nil {
					for k, v := range cl.headers() {
						header[k] = v
					}
				}
				for k, v := range c.header { // the case's own headers win
					header[k] = v
				}
				var body io.Reader
				if c.body != nil {
					body = bytes.NewReader(bytes.ReplaceAll(c.body(), []byte("{id}"), []byte(id)))
				}
				a := do(t, c.method, tg.url+path, header, c.contentType, body)
				if os.Getenv("HOSTILE_TRACE") != "" {
					t.Logf("TRACE %d %.160s", a.status, a.body)
				}
				checkHostile(t, c, who, a)
			})
		}
	}
}

// checkHostile checks one answer: below 500, the documented status if
// the case names one, and the documented envelope.
func checkHostile(t *testing.T, c hostileCase, who auth, a answer) {
	t.Helper()
	if a.status >= 500 {
		t.Errorf("got %v, want a status below 500", a)
		return
	}
	// The documented status is the session's answer: anonymous callers
	// of session routes are refused first.
	if c.want != 0 && a.status != c.want && (who != anonymous || c.auths != nil) {
		t.Errorf("got %v, want %d", a, c.want)
	}
	if c.notIn != "" && bytes.Contains(a.body, []byte(c.notIn)) {
		t.Errorf("got %v, want no %q in it", a, c.notIn)
	}
	if c.method == http.MethodHead && a.status < 300 {
		return // no body to check
	}
	if a.status == http.StatusMethodNotAllowed && a.header.Get("Allow") == "" {
		t.Errorf("got %v without Allow, want the methods the path takes", a)
	}
	ct := a.header.Get("Content-Type")
	switch {
	case a.status == http.StatusNotModified || a.status/100 == 3 && a.header.Get("Location") != "":
		return
	case a.status < 300 && c.binary && !strings.HasPrefix(ct, "application/json"):
		if len(a.body) == 0 {
			t.Errorf("got %d with an empty %q body, want a picture or a page", a.status, ct)
		}
		return
	}
	var env map[string]json.RawMessage
	if !strings.HasPrefix(ct, "application/json") || json.Unmarshal(a.body, &env) != nil {
		t.Errorf("got Content-Type %q body %.200q, want a JSON envelope", ct, a.body)
		return
	}
	var code int
	var msg, reason string
	var e struct {
		Reason string `json:"reason"`
	}
	json.Unmarshal(env["code"], &code)
	json.Unmarshal(env["msg"], &msg)
	switch {
	case a.status < 300:
		if env["code"] == nil || code != 0 || msg != "success" || env["data"] == nil {
			t.Errorf("got %v, want {code:0,msg:success,data:…}", a)
		}
	case env[sessionMagic] != nil:
		// A 400 of the session layer has no reason (docs/api.md), only
		// the error object the 2016 client shows.
		var se struct {
			Message string `json:"message"`
		}
		if env["reason"] != nil && json.Unmarshal(env["reason"], &reason) != nil {
			t.Errorf("got %v, want the session envelope's reason a string", a)
		}
		if string(env[sessionMagic]) != "1" || json.Unmarshal(env["error"], &se) != nil || se.Message == "" || reason == "" && a.status != 400 {
			t.Errorf("got %v, want the session envelope", a)
		}
	default:
		if code != -1 || msg != "fail" || json.Unmarshal(env["error"], &e) != nil || e.Reason == "" {
			t.Errorf("got %v, want {code:-1,msg:fail,error:{reason}}", a)
		}
	}
}

// hostileServer starts a server of cfg, its three callers and a paint of
// each logged-in one.
func hostileServer(t *testing.T, cfg config.Config, sim func(serverURL string) *wechatsim.Remote) (*hostileTarget, *running, fmt.Stringer) {
	logger, logs := testLogger(t)
	cfg.LoginBurstPerIP, cfg.LoginBurstPerApp = 0, 0 // every hostile login reaches the handler
	s := start(t, cfg, logger)
	remote := sim(s.URL())
	tg := &hostileTarget{url: s.URL(), clients: map[auth]*client{
		v1Session: newClient(t, s.URL(), "/applet", remote, "hostile-v1"),
		v2Session: newV2Client(t, s.URL(), "/applet", remote, "hostile-v2"),
	}, ids: map[auth]string{anonymous: newID()}}
	for _, who := range []auth{v1Session, v2Session} {
		id := newID()
		wantOK(t, "save "+who.String(), tg.clients[who].saveJSON(id, `[{"method":"moveTo","data":[1,1]},{"method":"lineTo","data":[9,9]},{"method":"stroke","data":[]}]`))
		a := tg.clients[who].post("share", map[string]string{"id": id})
		var share struct {
			Data struct {
				URL string `json:"url"`
			} `json:"data"`
		}
		if a.status != 200 || json.Unmarshal(a.body, &share) != nil || !strings.HasPrefix(share.Data.URL, "/s/") {
			t.Fatalf("share %s: got %v, want 200 with a link", who, a)
		}
		if who == v1Session {
			tg.token = strings.TrimPrefix(share.Data.URL, "/s/")
		}
		tg.ids[who] = id
	}
	return tg, s, logs
}

// finish checks what must hold after sweeps: the server answers
// /healthz, the sessions still work (logout with garbage too), and no
// ERROR or WARN line was logged.
func (tg *hostileTarget) finish(t *testing.T, logs fmt.Stringer) {
	t.Helper()
	if a := do(t, "GET", tg.url+"/healthz", nil, "", nil); a.status != 200 {
		t.Errorf("healthz after the sweep: got %v, want 200", a)
	}
	for _, who := range []auth{v1Session, v2Session} {
		c := tg.clients[who]
		if got := c.list(); len(got) == 0 {
			t.Errorf("%s list after the sweep: got none, want the paint", who)
		}
		checkHostile(t, hostileCase{}, who, do(t, "POST", c.api+"/session/logout?all=%ff", c.headers(), "", nil))
	}
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"level":"ERROR"`) {
			t.Errorf("ERROR logged: %s", l)
		}
		// Client input is logged below WARN too, so that no client can
		// fill the warnings; dev mode's own banner is the one warning.
		if strings.Contains(l, `"level":"WARN"`) && !strings.Contains(l, `"msg":"development mode:`) {
			t.Errorf("WARN logged for client input: %.300s", l)
		}
	}
}

// TestHostileDev sweeps a development-mode server (SQLite, memory
// sessions) twice with fresh made-up values; the second sweep must add
// no metrics series.
func TestHostileDev(t *testing.T) {
	tg, s, logs := hostileServer(t, testConfig(t), devSim)
	rng := rand.New(rand.NewPCG(10, 10))
	t.Run("Sweep1", func(t *testing.T) { tg.sweep(t, hostileCases(rng)) })
	httpSeries(t, s.URL()) // so /metrics' own series exist too
	before := httpSeries(t, s.URL())
	beforeText := string(do(t, "GET", s.URL()+"/metrics", nil, "", nil).body)
	t.Run("Sweep2", func(t *testing.T) { tg.sweep(t, hostileCases(rng)) })
	if after := httpSeries(t, s.URL()); after != before {
		t.Errorf("got %d yibi_http_* series after a second sweep of made-up values, want %d", after, before)
		for _, l := range strings.Split(string(do(t, "GET", s.URL()+"/metrics", nil, "", nil).body), "\n") {
			if i := strings.LastIndexByte(l, ' '); strings.HasPrefix(l, "yibi_http_") && i > 0 && !strings.Contains(beforeText, l[:i]) {
				t.Logf("new series: %s", l)
			}
		}
	}
	tg.finish(t, logs)
}

// TestHostileProduction sweeps the production setup: sessions in Redis,
// paints in FerretDB, WeChat a simulator over HTTP.
func TestHostileProduction(t *testing.T) {
	if os.Getenv("YIBI_FERRETDB_BIN") == "" {
		t.Skip("YIBI_FERRETDB_BIN is not set")
	}
	p := startProd(t)
	tg, _, logs := hostileServer(t, p.cfg, func(string) *wechatsim.Remote { return p.remote() })
	t.Run("Sweep", func(t *testing.T) { tg.sweep(t, hostileCases(rand.New(rand.NewPCG(20, 20)))) })
	tg.finish(t, logs)
}
