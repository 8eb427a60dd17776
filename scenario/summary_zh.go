package scenario

// zhSummaries are the scenarios' summaries in Chinese, in the words
// Chinese readers of TCP search for (三次握手, 四次挥手, 半关闭,
// 超时重传, 2MSL): Summary in another language, so the same scenario
// reads the same in the lab and on the command line.
var zhSummaries = map[string]string{
	"handshake":              "三次握手：SYN、SYN+ACK、ACK，双方进入 ESTABLISHED",
	"client-closes-first":    "客户端先关闭的四次挥手，之后客户端在 TIME_WAIT 中等待 2MSL",
	"server-closes-first":    "服务器先关闭的四次挥手，之后由服务器停留在 TIME_WAIT",
	"half-close":             "半关闭：客户端发出请求后调用 shutdown(SHUT_WR)；处于 CLOSE_WAIT 的服务器继续发送回复，客户端照常接收",
	"lost-syn":               "客户端的 SYN 丢失：重传计时器到期，SYN 超时重传",
	"lost-syn-ack":           "SYN+ACK 丢失：服务器的超时重传和客户端重传的 SYN 各自带来一个新的 SYN+ACK",
	"lost-third-ack":         "三次握手的最后一个 ACK 丢失：客户端的第一个数据报文段带着同样的确认号，服务器因此进入 ESTABLISHED",
	"lost-third-ack-no-data": "三次握手的最后一个 ACK 丢失，客户端又没有数据要发：服务器超时重传 SYN+ACK",
	"lost-fin":               "客户端的 FIN 丢失：计时器到期后 FIN 超时重传",
	"lost-final-ack":         "四次挥手的最后一个 ACK 丢失：服务器重发 FIN，处于 TIME_WAIT 的客户端再次确认，并重新等待 2MSL",
	"simultaneous-open":      "同时打开：双方在同一时刻发送 SYN，各自在 SYN_RCVD 中用 SYN+ACK 应答对方",
	"simultaneous-close":     "同时关闭：双方在同一时刻发送 FIN，经过 CLOSING 进入 TIME_WAIT",
	"refused":                "发往无人监听端口的 SYN 得到 RST 回应：连接被拒绝",
	"abort":                  "客户端在连接中途中止：一个 RST，双方立即进入 CLOSED，不经过 TIME_WAIT",
	"old-duplicate-syn":      "旧连接的重复 SYN 先到：客户端的 RST 让服务器回到 LISTEN（RFC 9293 §3.5）",
	"time-wait-reuse":        "服务器先关闭并停留在 TIME_WAIT；同一客户端端口发来序号更大的新 SYN，复用这对地址",
	"last-ack-peer-vanished": "客户端发出 FIN 后消失；处于 LAST_ACK 的服务器不断超时重传 FIN，直到放弃",
	"half-open":              "客户端崩溃并重启，忘记了连接（半开连接）；服务器的下一份数据得到 RST 回应",
	"syn-timeout":            "每个 SYN 都丢失：客户端按 1、2、4……秒退避重传，最后以超时放弃",
}

// Describe returns the scenario's summary in lang: "zh" for Chinese,
// anything else for English.
func (s Scenario) Describe(lang string) string {
	if lang == "zh" {
		if t, ok := zhSummaries[s.Name]; ok {
			return t
		}
	}
	return s.Summary
}
