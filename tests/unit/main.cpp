#define DOCTEST_CONFIG_IMPLEMENT
#include "util/log.hpp"

#include <doctest/doctest.h>
#include <syslog.h>

#include <cstdlib>

// Tests log nowhere unless RAMPART_TEST_LOG is set (then to stderr).
int main(int argc, char** argv)
{
    rampart::log::open("rampart-tests", LOG_USER, std::getenv("RAMPART_TEST_LOG") != nullptr);
    rampart::log::set_syslog(false);
    doctest::Context context(argc, argv);
    return context.run();
}
