package tcp

import "time"

// sampleSink is CUBIC that takes delivery-rate samples and drops them,
// so that a connection keeps the sampler's records (FuzzPair).
type sampleSink struct{ CongestionControl }

func newSampleSink(mss int) CongestionControl { return sampleSink{NewCubic(mss)} }

func (sampleSink) OnRateSample(RateSample, time.Time) {}
