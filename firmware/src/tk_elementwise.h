/* tinykit runtime: element-wise, LUT, concatenation, pad and (de)quantize
 * int8 reference kernels. Internal header. Plain C99, no malloc. */
#ifndef TK_ELEMENTWISE_H
#define TK_ELEMENTWISE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* TK_ELEMENTWISE_H */
