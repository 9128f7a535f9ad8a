# The annotated pcapng writer: the unit test (libpcap and our own block parser read the files
# back).
tp_unit_test(test_rpt_pcapng SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_rpt_pcapng.c
             LIBS reports rpt_fixture stunlib PkgConfig::PCAP PkgConfig::JSONGLIB TIMEOUT 60)
