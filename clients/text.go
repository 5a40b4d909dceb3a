package clients

import "bytes"

// Config files are edited as text with LF line ends and no byte order
// mark. Both are put back before writing: a file saved by a Windows editor
// keeps its CRLF line ends (inserted lines included) and its BOM, so that
// an uninstall gives back the bytes that were there before the install.

var utf8BOM = []byte("\xef\xbb\xbf")

// framing is what unframe took off a file and frame puts back.
type framing struct {
	bom  bool // the file starts with a UTF-8 byte order mark
	crlf bool // every line ends in CRLF
}

// unframe returns src without its BOM and with CRLF turned into LF, and
// what it took away. A file that mixes CRLF and LF is left as it is: no
// single style would give it back byte for byte.
func unframe(src []byte) ([]byte, framing) {
	var f framing
	if rest, ok := bytes.CutPrefix(src, utf8BOM); ok {
		src, f.bom = rest, true
	}
	if n := bytes.Count(src, []byte("\r\n")); n > 0 && n == bytes.Count(src, []byte("\n")) {
		f.crlf = true
		src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	}
	return src, f
}

// frame is the inverse of unframe: every LF of text, the lines an edit
// inserted included, becomes CRLF again.
func (f framing) frame(text []byte) []byte {
	if f.crlf {
		text = bytes.ReplaceAll(text, []byte("\n"), []byte("\r\n"))
	}
	if f.bom {
		text = append(bytes.Clone(utf8BOM), text...)
	}
	return text
}
