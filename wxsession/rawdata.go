package wxsession

import "github.com/yibi/yibi/wechat"

// EncodeRawData encodes a rawData JSON string for the X-WX-RawData header
// as the 2016 client did, with JavaScript's encodeURIComponent. Go clients
// of the protocol use it (yibi's load generator and the tests); the
// middleware decodes any percent-encoding. It is wechat.EncodeRawData.
func EncodeRawData(rawData string) string { return wechat.EncodeRawData(rawData) }
