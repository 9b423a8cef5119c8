module github.com/yibi/yibi/wxsession

go 1.26.0

require github.com/yibi/yibi/wechat v0.0.0-00010101000000-000000000000

// The modules of this repository are developed together; go.work at the
// root joins them, and these replaces let each module build on its own.
replace github.com/yibi/yibi/wechat => ../wechat
