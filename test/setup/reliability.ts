// The reliability tier moves hundreds of MiB through real VDE networks on a shared 2-core machine:
// a transfer can stall behind the vdestack bridge's dropped frames (vxvde's 212 KB receive buffer,
// the bridge issue's measurements). Such a test gets one more try, and the failure of the first is
// printed, so a stall that repeats still fails and one that does not is still seen in the log.
jest.retryTimes(1, { logErrorsBeforeRetry: true });
