package wechat_test

import (
	"testing"

	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) wechat.Store { return wechat.NewMemoryStore() })
}

func TestMemoryStoreShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (wechat.Store, wechat.Store) {
		s := wechat.NewMemoryStore()
		return s, s
	})
}
