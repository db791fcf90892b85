// The run's identifier.
#pragma once

#include <string>

namespace epochwatt::detail {

// A random UUID version 4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"), CodeCarbon's run_id form.
std::string make_run_id();

}  // namespace epochwatt::detail
