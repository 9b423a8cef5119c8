package wechat

import "strings"

// EncodeRawData encodes a rawData JSON string (wx.getUserInfo's) for the
// X-WX-RawData header as the 2016 client SDK did, with JavaScript's
// encodeURIComponent. It lives here, with the rest of what WeChat hands a
// mini program, so that both the session library and the simulator's
// POST /sim/headers use one encoder.
func EncodeRawData(rawData string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(rawData) * 2)
	for i := 0; i < len(rawData); i++ {
		c := rawData[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
