package wxsession_test

import (
	"testing"

	"github.com/yibi/yibi/wxsession"
)

func TestEncodeRawData(t *testing.T) {
	in := `{"nickName":"小明 A+B/c","x":"-_.!~*'()"}`
	want := "%7B%22nickName%22%3A%22%E5%B0%8F%E6%98%8E%20A%2BB%2Fc%22%2C%22x%22%3A%22-_.!~*'()%22%7D"
	if got := wxsession.EncodeRawData(in); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
