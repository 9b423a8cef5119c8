module github.com/yibi/yibi/wechat

go 1.26.0
