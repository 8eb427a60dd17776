package render

// The sentences of Explain, in each language it speaks. Placeholders:
// {H} the host the step is about, {P} its peer, {n} a number, {what} a
// kind of segment, {from} and {to} states, {text} free text. Each
// sentence says why, not only what: the diagram already shows what.

// message returns the English and Chinese forms of the sentence key; ok
// is false for an unknown key.
func message(key string) (en, zh string, ok bool) {
	switch key {
	// State entries.
	case "st.listen":
		return "{H}'s application calls listen(): a passive open. {H} waits in LISTEN for a SYN to arrive.",
			"{H}的应用调用了 listen()，这是被动打开：{H}进入 LISTEN，等待对方的 SYN。", true
	case "st.synsent":
		return "{H}'s application calls connect(): an active open. {H} sends a SYN and waits in SYN_SENT for the answer.",
			"{H}的应用调用 connect() 主动打开连接：{H}发出 SYN，进入 SYN_SENT 等待对方应答。", true
	case "st.synrcvd":
		return "A SYN has reached {H}'s listening port: {H} makes a connection for it, notes {P}'s initial sequence number and enters SYN_RCVD, half-way through the handshake.",
			"一个 SYN 到达了{H}正在监听的端口：{H}为它建立一个连接，记下{P}的初始序号，进入 SYN_RCVD——握手进行到一半。", true
	case "st.synrcvd.simopen":
		return "{H} is waiting for a SYN+ACK but receives a bare SYN: {P} is opening the connection at the same moment (simultaneous open). {H} enters SYN_RCVD.",
			"{H}在等 SYN+ACK，收到的却是一个单独的 SYN：{P}也在同一时刻主动打开连接（同时打开）。{H}进入 SYN_RCVD。", true
	case "st.synrcvd.reuse":
		return "{H} still holds the old connection in TIME_WAIT, but the new SYN's sequence number is above any the old connection used, so no old segment can be taken for a new one: {H} reuses the address pair and enters SYN_RCVD (RFC 1122 §4.2.2.13).",
			"{H}仍以 TIME_WAIT 保留着旧连接，但新 SYN 的序号比旧连接用过的都大，旧报文不会被误认作新连接的报文，于是{H}复用这对地址和端口，进入 SYN_RCVD（RFC 1122 §4.2.2.13）。", true
	case "st.est.synsent":
		return "The SYN+ACK acknowledges {H}'s SYN and carries {P}'s initial sequence number: {H} is ESTABLISHED and may send data.",
			"SYN+ACK 确认了{H}的 SYN，并带来了{P}的初始序号：{H}进入 ESTABLISHED，可以发送数据了。", true
	case "st.est.ack":
		return "{P}'s ACK acknowledges {H}'s SYN+ACK: the three-way handshake is complete and {H} is ESTABLISHED too.",
			"{P}的 ACK 确认了{H}的 SYN+ACK：三次握手完成，{H}也进入 ESTABLISHED。", true
	case "st.est.data":
		return "The handshake's last ACK never arrived, but {P}'s data segment carries the same acknowledgment: {H} takes it as the ACK of its SYN+ACK and is ESTABLISHED.",
			"握手的最后一个 ACK 没有到达，但{P}的数据报文段带着同样的确认号：{H}把它当作对自己 SYN+ACK 的确认，进入 ESTABLISHED。", true
	case "st.est.simopen":
		return "{P}'s SYN+ACK acknowledges {H}'s SYN: both SYNs are now acknowledged and {H} is ESTABLISHED; a simultaneous open needs no separate third ACK.",
			"{P}的 SYN+ACK 确认了{H}的 SYN：双方的 SYN 都已得到确认，{H}进入 ESTABLISHED；同时打开不需要单独的第三个 ACK。", true
	case "st.est":
		return "Both sides' SYNs are acknowledged: {H} is ESTABLISHED.",
			"双方的 SYN 都已得到确认：{H}进入 ESTABLISHED。", true
	case "st.listen.rst":
		return "The RST tells {H} that the SYN it answered did not come from a live connection (it was an old duplicate), so {H} forgets it and returns to LISTEN.",
			"这个 RST 告诉{H}：它应答的那个 SYN 并非来自一个活着的连接，而是旧的重复报文。于是{H}丢弃它，回到 LISTEN。", true
	case "st.fw1":
		return "{H}'s application calls close(): it has nothing more to send. {H} sends a FIN and waits in FIN_WAIT_1 for it to be acknowledged; this is the active close.",
			"{H}的应用调用 close()，表示没有数据要发了。{H}发出 FIN，进入 FIN_WAIT_1 等待对它的确认——这是主动关闭，四次挥手的第一次挥手。", true
	case "st.closewait":
		return "{P}'s FIN has arrived: {P} will send no more data. {H} acknowledges it and enters CLOSE_WAIT (the passive close); it may still send until its own application calls close().",
			"{P}的 FIN 到了：{P}不会再发送数据。{H}确认这个 FIN，进入 CLOSE_WAIT（被动关闭）；在自己的应用调用 close() 之前，{H}仍可以继续发送。", true
	case "st.fw1.shutdown":
		return "{H}'s application calls shutdown(SHUT_WR) (CloseWrite() in Go): a half-close. {H} will send nothing more but keeps reading; it sends a FIN and waits in FIN_WAIT_1 for it to be acknowledged.",
			"{H}的应用调用 shutdown(SHUT_WR)（Go 中的 CloseWrite()）：这是半关闭。{H}不再发送数据，但仍然接收；它发出 FIN，进入 FIN_WAIT_1 等待对它的确认。", true
	case "st.fw2.half":
		return "{P} has acknowledged {H}'s FIN: {H}'s direction is closed, but only that one (half-close). In FIN_WAIT_2 {H} still reads and acknowledges what {P} sends, until {P}'s FIN.",
			"{P}确认了{H}的 FIN：{H}这一方向已关闭，但只是这一个方向（半关闭）。在 FIN_WAIT_2 中，{H}仍然接收并确认{P}发来的数据，直到{P}的 FIN 到来。", true
	case "st.fw2":
		return "{P} has acknowledged {H}'s FIN, so {H}'s direction of the connection is closed. {H} waits in FIN_WAIT_2 for {P}'s FIN.",
			"{P}确认了{H}的 FIN，{H}这一方向的数据流已经关闭。{H}在 FIN_WAIT_2 中等待{P}的 FIN。", true
	case "st.closing":
		return "{P}'s FIN arrives while {H}'s own FIN is still unacknowledged: both sides are closing at once (simultaneous close). {H} acknowledges it and waits in CLOSING for the ACK of its own FIN.",
			"{H}自己的 FIN 还没被确认，{P}的 FIN 就到了：双方同时关闭。{H}确认对方的 FIN，进入 CLOSING，等待对自己 FIN 的确认。", true
	case "st.tw.fw2":
		return "{P}'s FIN arrives: both directions are now closed. {H} acknowledges it and enters TIME_WAIT for 2×MSL, to answer the FIN again should this ACK be lost, and so that stray segments of the connection die out before the same ports are used again.",
			"{P}的 FIN 到了（第三次挥手）：两个方向都已关闭。{H}确认它并进入 TIME_WAIT，在这里停留 2×MSL：万一这个 ACK 丢了、对方重发 FIN，它还能再次应答；同时让这个连接残留在网络中的报文全部消失，之后才能复用同样的端口。", true
	case "st.tw.fw1":
		return "{P}'s segment both acknowledges {H}'s FIN and carries {P}'s own FIN: {H} goes straight from FIN_WAIT_1 to TIME_WAIT.",
			"{P}的报文段既确认了{H}的 FIN，又带着{P}自己的 FIN：{H}从 FIN_WAIT_1 直接进入 TIME_WAIT。", true
	case "st.tw.closing":
		return "The ACK of {H}'s FIN arrives: both FINs are acknowledged. Having closed actively, {H} now waits 2×MSL in TIME_WAIT.",
			"对{H}的 FIN 的确认到了：两个 FIN 都已确认。作为主动关闭的一方，{H}现在要在 TIME_WAIT 中等待 2×MSL。", true
	case "st.lastack":
		return "{H}'s application has read to the end of {P}'s data and calls close() too: {H} sends its own FIN and waits in LAST_ACK for the ACK of it.",
			"{H}的应用读完了{P}发来的数据，也调用了 close()：{H}发出自己的 FIN，进入 LAST_ACK 等待对它的确认。", true
	case "st.closed.lastack":
		return "The ACK of {H}'s FIN arrives: the connection is closed in both directions. {H}, which closed last, is CLOSED at once; TIME_WAIT is for the side that closed first.",
			"对{H}的 FIN 的确认到了：连接的两个方向都已关闭。后关闭的{H}立即进入 CLOSED——TIME_WAIT 只属于先关闭的一方。", true
	case "st.closed.timewait":
		return "2×MSL has passed without {P}'s FIN coming again: every stray segment of the connection has expired, so {H} forgets the connection and is CLOSED.",
			"2×MSL 过去了，{P}的 FIN 没有再出现：这个连接残留的报文都已过期，{H}可以放心地删除连接，进入 CLOSED。", true
	case "st.closed.refused":
		return "The RST answers {H}'s SYN: nothing is listening on that port. The connection is refused and {H} is CLOSED.",
			"RST 回应了{H}的 SYN：那个端口上没有进程在监听。连接被拒绝，{H}进入 CLOSED。", true
	case "st.closed.reset":
		return "{P}'s RST resets the connection: {H} discards it and is CLOSED at once, without TIME_WAIT.",
			"{P}的 RST 重置了连接：{H}立即丢弃连接，直接进入 CLOSED，不经过 TIME_WAIT。", true
	case "st.closed.abort":
		return "{H}'s application aborts the connection: {H} throws away any queued data, sends a RST instead of a FIN and goes straight to CLOSED.",
			"{H}的应用中止了连接：{H}丢弃所有排队的数据，发送 RST 而不是 FIN，直接进入 CLOSED。", true
	case "st.closed.syntimeout":
		return "{H} has sent its SYN {n} times without an answer: it gives up, connect() fails with a timeout and {H} is CLOSED.",
			"{H}已经发送了 {n} 次 SYN，始终没有回音：它放弃了，connect() 以超时失败，{H}进入 CLOSED。", true
	case "st.closed.timeout":
		return "{H} has retransmitted {n} times without any acknowledgment: it gives up on the connection, which ends CLOSED with a timeout.",
			"{H}已经重传了 {n} 次，始终没有得到确认：它放弃了这个连接，连接以超时告终，进入 CLOSED。", true
	case "st.closed":
		return "{H}'s connection is CLOSED.",
			"{H}的连接进入 CLOSED。", true
	case "st.other":
		return "{H} goes from {from} to {to}.",
			"{H}从 {from} 进入 {to}。", true

	// Segments sent.
	case "send.syn":
		return "{H} sends a SYN to open the connection: it carries {H}'s initial sequence number and its MSS, and takes up one sequence number itself.",
			"{H}发送 SYN 以建立连接：SYN 携带{H}的初始序号和 MSS，它本身也占用一个序号。", true
	case "send.syn.rexmit":
		return "No SYN+ACK has come back before the retransmission timeout, so {H} sends its SYN again (try {n}); the timeout doubles after every try.",
			"在重传超时之前没有收到 SYN+ACK，于是{H}超时重传 SYN（第 {n} 次）；每重试一次，超时时间就翻一倍。", true
	case "send.syn.simopen":
		return "{H} opens actively at the same moment: its SYN crosses {P}'s in the network (simultaneous open).",
			"{H}在同一时刻也主动打开连接：它的 SYN 与{P}的 SYN 在网络中交错而过（同时打开）。", true
	case "send.syn.old":
		return "An old duplicate SYN, from an earlier connection between the same ports and delayed in the network, is also on its way to {P}. Its sequence number is not the one {H} chose for this connection.",
			"一个旧的重复 SYN 也正发往{P}：它来自同一对端口之前的一个连接，在网络中滞留了很久。它的序号并不是{H}为本次连接选择的序号。", true
	case "send.syn.reuse":
		return "{H} connects again from the same port while {P} still holds the previous connection in TIME_WAIT; the new SYN's initial sequence number is higher than any the old connection used.",
			"{P}仍以 TIME_WAIT 保留着上一个连接，{H}又从同一个端口发起连接；新 SYN 的初始序号比旧连接用过的任何序号都大。", true
	case "send.synack":
		return "{H} answers the SYN with a SYN+ACK: it acknowledges {P}'s SYN (the acknowledgment number is {P}'s initial sequence number plus one) and carries {H}'s own initial sequence number.",
			"{H}以 SYN+ACK 回应这个 SYN：它确认{P}的 SYN（确认号是{P}的初始序号加一），同时带上{H}自己的初始序号。", true
	case "send.synack.rexmit":
		return "{H}'s SYN+ACK has not been acknowledged before the retransmission timeout, so {H} sends it again.",
			"{H}的 SYN+ACK 在重传超时前没有得到确认，于是{H}超时重传。", true
	case "send.synack.again":
		return "{P}'s SYN arrives again, so {P} never got the SYN+ACK: {H} answers it with the same SYN+ACK.",
			"{P}的 SYN 又到了，说明{P}没有收到 SYN+ACK：{H}用同样的 SYN+ACK 再次作答。", true
	case "send.synack.simopen":
		return "{H} answers {P}'s SYN with a SYN+ACK that repeats its own SYN and acknowledges {P}'s.",
			"{H}以 SYN+ACK 回应{P}的 SYN：既重复自己的 SYN，也确认{P}的 SYN。", true
	case "send.ack.third":
		return "{H} acknowledges {P}'s SYN+ACK: this ACK is the third and last segment of the three-way handshake.",
			"{H}确认{P}的 SYN+ACK：这个 ACK 是三次握手的第三个、也是最后一个报文段。", true
	case "send.ack.dupsynack":
		return "Another copy of the SYN+ACK arrives after {H} is already ESTABLISHED: {H} just acknowledges it again.",
			"{H}已经进入 ESTABLISHED 之后，又收到一份 SYN+ACK：{H}只是再确认一次。", true
	case "send.ack.data":
		return "{H} acknowledges the {n} bytes it received: the acknowledgment number names the next byte it expects from {P}.",
			"{H}确认收到的 {n} 字节：确认号表示它期望从{P}收到的下一个字节。", true
	case "send.ack.fin":
		return "{H} acknowledges {P}'s FIN; a FIN takes up one sequence number, so the acknowledgment number goes up by one.",
			"{H}确认{P}的 FIN；FIN 占用一个序号，所以确认号加一。", true
	case "send.ack.finalack":
		return "{H} acknowledges {P}'s FIN: this is the last segment of the close. Should it be lost, {P} will send its FIN again, which is why {H} waits in TIME_WAIT.",
			"{H}确认{P}的 FIN：这是四次挥手的最后一个报文段。如果它丢了，{P}会重发 FIN——这正是{H}要在 TIME_WAIT 中等待的原因。", true
	case "send.ack.reack":
		return "{P}'s FIN has come again, so {H}'s last ACK must have been lost: {H}, still in TIME_WAIT, answers with the same ACK and restarts its 2MSL timer.",
			"{P}的 FIN 又来了，说明{H}的最后一个 ACK 丢了：仍处于 TIME_WAIT 的{H}用同样的 ACK 作答，并重新开始 2MSL 计时。", true
	case "send.ack.closing":
		return "{H} acknowledges {P}'s FIN even though its own FIN is not yet acknowledged.",
			"虽然{H}自己的 FIN 还没被确认，它仍然确认了{P}的 FIN。", true
	case "send.ack.delayed":
		return "With no data to carry it, {H} sends the delayed ACK on its own, {ms} ms after the data arrived: the acknowledgment number names the next byte it expects from {P}.",
			"没有数据可以捎带，{H}在数据到达 {ms} ms 后单独发出这个延迟确认（ACK）：确认号表示它期望从{P}收到的下一个字节。", true
	case "send.ack.delayed.wire":
		return "{H} acknowledges the {n} bytes {ms} ms later than it answered the handshake: a delayed ACK of {ms} ms, held back in case it could ride on data or cover a second segment (RFC 1122 §4.2.3.2).",
			"{H}确认这 {n} 字节比它在握手时的应答晚了 {ms} ms：这是 {ms} ms 的延迟确认，ACK 被暂缓，希望能搭上数据一起发送，或一次确认两个报文段（RFC 1122 §4.2.3.2）。", true
	case "send.data.rexmit.rto":
		return "{H} sends the {n} bytes again, {ms} ms after it last sent them: no acknowledgment came in that time, so its retransmission timeout (RTO) expired: a retransmission after RTO.",
			"{H}在上次发送 {ms} ms 后再次发送这 {n} 字节：这段时间里没有收到确认，重传计时器（RTO）到期，这是超时重传。", true
	case "send.data.rexmit.fast":
		return "{H} has received {n} duplicate ACKs naming the same missing byte, so it resends that segment at once without waiting for its timer (fast retransmit, RFC 5681 §3.2).",
			"{H}收到了 {n} 个重复 ACK，都指向同一个缺失的字节，于是不等计时器到期就立即重传那个报文段（快速重传，RFC 5681 §3.2）。", true
	case "send.zerowin":
		return "{H} advertises a zero window: its receive buffer is full because its application is not reading, so {P} must stop sending until the window opens.",
			"{H}通告的窗口为零（零窗口）：它的接收缓冲区满了，因为应用没有读取数据，所以{P}必须停止发送，直到窗口重新打开。", true
	case "send.winopen":
		return "{H}'s application has read, so its window opens again: {P} may resume sending.",
			"{H}的应用读取了数据，窗口重新打开：{P}可以继续发送了。", true
	case "send.zerowin.still":
		return "{H} answers with its window still zero: its application has not read yet, so {P} keeps waiting.",
			"{H}的应答中窗口仍然为零：它的应用还没有读取数据，{P}只能继续等待。", true
	case "send.zerowin.probe":
		return "{P}'s window is zero, so {H} sends only a probe (its persist timer) to learn when the window opens.",
			"{P}的窗口为零，{H}只发送一个探测报文（坚持计时器），以便得知窗口何时打开。", true
	case "send.ack.dup":
		return "{H} repeats its last acknowledgment (a duplicate ACK): what arrived from {P} did not fill the gap, so a segment before it is still missing.",
			"{H}重复了上一个确认号（重复 ACK）：{P}发来的报文没有填上空缺，前面仍有一个报文段没有收到。", true
	case "send.ack.keepalive":
		return "{H} sends a keepalive probe: a segment {P} must answer with an ACK if it still has the connection.",
			"{H}发送保活探测：如果{P}还保留着这个连接，就必须用 ACK 回应。", true
	case "send.ack":
		return "{H} sends an acknowledgment: everything before the acknowledgment number has arrived.",
			"{H}发送一个确认：确认号之前的数据都已收到。", true
	case "send.data":
		return "{H} sends the {n} bytes its application wrote; {P} will acknowledge them.",
			"{H}把应用写入的 {n} 字节数据发送出去；{P}收到后会确认。", true
	case "send.data.halfclose":
		return "{H} sends {n} bytes after {P}'s FIN: a FIN closes one direction only, so {P} has half-closed (shutdown(SHUT_WR)) and still reads until {H} sends its own FIN.",
			"{H}在收到{P}的 FIN 之后继续发送 {n} 字节：FIN 只关闭一个方向，{P}这是半关闭（shutdown(SHUT_WR)），在{H}发出自己的 FIN 之前仍然接收数据。", true
	case "send.data.rexmit":
		return "{H}'s {n} bytes have not been acknowledged before the retransmission timeout, so it sends them again.",
			"{H}的 {n} 字节数据在重传超时前没有得到确认，于是超时重传。", true
	case "send.fin":
		return "{H} sends a FIN: it will send no more data. The FIN takes up one sequence number, so the ACK for it will be one higher.",
			"{H}发送 FIN，表示不再发送数据。FIN 占用一个序号，所以对它的确认号会加一。", true
	case "send.fin.passive":
		return "{H}'s FIN closes its direction too. Like every FIN it takes up one sequence number, and {P}'s ACK of it will end the connection.",
			"{H}的 FIN 把自己这个方向也关闭了。和所有 FIN 一样，它占用一个序号；{P}对它的确认将结束这个连接。", true
	case "send.fin.simclose":
		return "{H} closes at the same moment: its FIN crosses {P}'s in the network (simultaneous close).",
			"{H}在同一时刻也关闭了连接：它的 FIN 与{P}的 FIN 在网络中交错而过（同时关闭）。", true
	case "send.fin.rexmit":
		return "{H}'s FIN has not been acknowledged before the retransmission timeout, so {H} sends it again.",
			"{H}的 FIN 在重传超时前没有得到确认，于是{H}超时重传 FIN。", true
	case "send.fin.rexmit.tw":
		return "{H} has not received {P}'s ACK of its FIN, so after the retransmission timeout it sends the FIN again; {P}, in TIME_WAIT, is still there to answer it.",
			"{H}没有收到{P}对其 FIN 的确认，于是超时重传 FIN；处于 TIME_WAIT 的{P}还在，可以再次应答。", true
	case "send.rst.abort":
		return "The RST tells {P} at once that the connection is aborted; unlike a FIN, it is neither acknowledged nor retransmitted.",
			"RST 立即通知{P}连接已被中止；与 FIN 不同，RST 既不需要确认，也不会重传。", true
	case "send.rst.refused":
		return "Nothing is listening on that port at {H} (no listener), so it answers the SYN with a RST: the connection is refused.",
			"{H}上没有进程在监听那个端口，所以{H}用 RST 回应这个 SYN：连接被拒绝。", true
	case "send.rst.olddup":
		return "The SYN+ACK acknowledges a sequence number {H} never sent in this connection (it answers the old SYN), so {H} replies with a RST, telling {P} to drop that half-open connection (RFC 9293 §3.5).",
			"这个 SYN+ACK 确认的序号并不是{H}在本次连接中发送过的（它应答的是那个旧 SYN），所以{H}回复 RST，让{P}丢弃那个半开的连接（RFC 9293 §3.5）。", true
	case "send.rst.noconn":
		return "{H} has no connection this segment belongs to, so it answers with a RST.",
			"{H}没有这个报文段所属的连接，于是用 RST 回应。", true
	case "send.rst.rebooted":
		return "{H} lost all its connections when it crashed, so it has none this segment belongs to and answers with a RST: the connection was half-open.",
			"{H}崩溃时丢失了所有连接，找不到这个报文段所属的连接，于是用 RST 回应：这是一个半开连接。", true
	case "send.rst":
		return "{H} sends a RST to reset the connection.",
			"{H}发送 RST 重置连接。", true
	case "send":
		return "{H} sends a segment.",
			"{H}发送一个报文段。", true

	// What the network does.
	case "net.dup":
		return "The network delivers this segment twice: {P} will receive a duplicate copy.",
			"网络把这个报文段复制了一份：{P}会收到两份。", true
	case "net.lost":
		return "{H}'s {what} is lost in the network: {P} never receives it.",
			"{H}的{what}在网络中丢失了：{P}永远收不到它。", true
	case "net.lost.finalack":
		return "{H}'s final ACK is lost in the network: {P}, in LAST_ACK, never learns that its FIN arrived.",
			"{H}的最后一个 ACK 在网络中丢失了：处于 LAST_ACK 的{P}无从得知自己的 FIN 已经送达。", true
	case "net.lost.thirdack":
		return "The handshake's third ACK is lost in the network: {P} stays in SYN_RCVD, still waiting for its SYN+ACK to be acknowledged.",
			"握手的第三个 ACK 在网络中丢失了：{P}仍停留在 SYN_RCVD，等待对其 SYN+ACK 的确认。", true
	case "net.lost.down":
		return "{P} has crashed, so {H}'s {what} reaches nobody.",
			"{P}已经崩溃，{H}的{what}无人接收。", true
	case "net.corrupt":
		return "{H}'s {what} arrives at {P} damaged: the checksum does not match, so {P} discards it, just as if it had been lost.",
			"{H}的{what}到达{P}时已经损坏：校验和对不上，{P}把它丢弃，就像它丢失了一样。", true

	// Appended to the ACK of a FIN whose window is one less.
	case "win.fin":
		return "The window it advertises is one smaller too: the acknowledgment moved past the FIN's sequence number while the window's right edge (acknowledgment + window) stayed put, for a receiver neither moves it back (RFC 9293 §3.8.6) nor forward by less than a segment (receiver-side silly window avoidance, §3.8.6.2.2).",
			"它通告的窗口也小了一：确认号越过了 FIN 占用的那个序号，而窗口的右边界（确认号加窗口）保持不动，因为接收方既不把右边界往回收（RFC 9293 §3.8.6），也不为不足一个报文段的空间把它往前推（接收方的糊涂窗口避免，§3.8.6.2.2）。", true

	// Timers, applications, notes.
	case "timer.rto":
		return "{H}'s retransmission timer (RTO) expires: what it sent has not been acknowledged in time.",
			"{H}的重传计时器（RTO）到期：它发出的报文没有在规定时间内得到确认，需要超时重传。", true
	case "timer.2msl":
		return "{H}'s 2MSL timer expires: TIME_WAIT is over.",
			"{H}的 2MSL 计时器到期：TIME_WAIT 结束。", true
	case "timer.delack":
		return "{H} has held back its ACK for a moment, in case it could send it along with data or cover a second segment with it (a delayed ACK, RFC 1122 §4.2.3.2); the delayed-ACK timer has now run out.",
			"{H}把 ACK 暂缓了片刻，希望能让它搭上数据一起发送，或者一次确认两个报文段（延迟确认，RFC 1122 §4.2.3.2）；现在延迟确认计时器到期了。", true
	case "timer.persist":
		return "{P} has advertised a zero window and {H} has data waiting: its persist timer fires, and {H} probes whether the window has opened.",
			"{P}通告的窗口为零，而{H}还有数据要发：坚持计时器到期，{H}发送探测报文，看看窗口是否已经打开。", true
	case "timer.keepalive":
		return "The connection has been idle for the keepalive time: {H} checks whether {P} is still there.",
			"连接空闲的时间已达到保活时间：{H}要确认{P}是否还在。", true
	case "timer":
		return "{H}'s {text} timer expires.",
			"{H}的 {text} 计时器到期。", true
	case "app.write":
		return "{H}'s application writes {n} bytes.",
			"{H}的应用写入 {n} 字节。", true
	case "app.eof":
		return "{H}'s application reads end-of-file: {P} has closed its direction and every byte before its FIN has been read.",
			"{H}的应用读到了文件结束（EOF）：{P}已关闭它那个方向，FIN 之前的数据都已读完。", true
	case "note.crash":
		return "{H} crashes: its connections vanish without a word; it sends nothing more, and whatever arrives for it is lost.",
			"{H}崩溃了：它的连接悄无声息地消失，它不会再发送任何东西，发给它的报文也都会丢失。", true
	case "note.reboot":
		return "{H} comes back up with no memory of its old connections: a segment for one of them will be answered with a RST.",
			"{H}重新启动，已不记得原来的连接：发给这些连接的报文段将得到 RST 回应。", true
	case "note.refused":
		return "{H}'s connect() fails: connection refused.",
			"{H}的 connect() 失败：连接被拒绝。", true
	case "note.reset":
		return "{H}'s application learns that {P} reset the connection.",
			"{H}的应用得知连接已被{P}重置。", true
	case "note.timeout":
		return "{H}'s application learns that the connection timed out.",
			"{H}的应用得知连接已超时。", true
	case "note":
		return "Note: {text}",
			"注：{text}", true
	}
	return "", "", false
}

// hostName is how a sentence names a host.
func hostName(lang, h string) string {
	if lang == "zh" {
		switch h {
		case "client":
			return "客户端"
		case "server":
			return "服务器"
		case "":
			return "对方"
		}
		return h
	}
	switch h {
	case "client", "server":
		return "the " + h
	case "":
		return "the peer"
	}
	return h
}

// segmentWhat names a kind of segment in a sentence. In Chinese the
// Latin names carry their own spaces, as mixed text is set, and the
// sentences put none around {what}.
func segmentWhat(lang, kind string, n int) string {
	if lang == "zh" && kind != "data" && kind != "any" {
		return " " + segmentWhat("en", kind, n) + " "
	}
	switch kind {
	case "syn":
		return "SYN"
	case "syn-ack":
		return "SYN+ACK"
	case "fin":
		return "FIN"
	case "rst":
		return "RST"
	case "ack":
		return "ACK"
	case "data":
		if lang == "zh" {
			return "数据报文段（" + itoa(n) + " 字节）"
		}
		return "data segment (" + itoa(n) + " bytes)"
	}
	if lang == "zh" {
		return "报文段"
	}
	return "segment"
}
