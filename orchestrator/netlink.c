/* To be written. */
#include <config.h>
