/* Every fuzz target, once: FUZZ_TARGET(name) for fuzz/fuzz_NAME.c. */
FUZZ_TARGET(x509)
FUZZ_TARGET(conf)
FUZZ_TARGET(proto)
FUZZ_TARGET(time)
FUZZ_TARGET(pki)
FUZZ_TARGET(agentcfg)
FUZZ_TARGET(binding)
FUZZ_TARGET(pvk)
