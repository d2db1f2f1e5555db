package ejabberdtest

import "time"

// ReadyIn is how long the shared server took from Start to ready.
func ReadyIn() time.Duration { return readyIn }
