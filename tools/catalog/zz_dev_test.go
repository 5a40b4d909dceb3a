package catalog_test

import "testing"

func TestZZDev2(t *testing.T) {
	top1, top3 := hitRates(t, loadIntents(t, "testdata/dev_intents_2.json"))
	t.Logf("dev2 intents: top-1 %.1f%%, top-3 %.1f%%", 100*top1, 100*top3)
}
