module github.com/yibi/yibi/wxsession/redisstore

go 1.26.0

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/yibi/yibi/wechat v0.0.0-00010101000000-000000000000
	github.com/yibi/yibi/wxsession v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

// The modules of this repository are developed together; go.work at the
// root joins them, and these replaces let each module build on its own.
replace (
	github.com/yibi/yibi/wechat => ../../wechat
	github.com/yibi/yibi/wxsession => ..
)
