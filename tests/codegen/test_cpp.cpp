// The generated headers compile as C++ (doc/codegen.md) and can be used from it.
#include "all_types.h"
#include "prediction_analysis_completed.h"
#include "prediction_analysis_requested.h"
#include "vessel_position_updated.h"

int main() {
    vtev_vessel_position_updated_t ev;
    if (vtev_vessel_position_updated_init(&ev) != VTEV_ERR_OK)
        return 1;
    vtev_buf_t buf = {};
    char err[256];
    vtev_err_t e = vtev_vessel_position_updated_type.encode(&ev, &buf, err, sizeof(err));
    vtev_vessel_position_updated_clear(&ev);
    vtev_buf_free(&buf);
    t_all_types_t a;
    if (t_all_types_init(&a) != VTEV_ERR_OK)
        return 1;
    t_all_types_clear(&a);
    return e == VTEV_ERR_OK ? 0 : 1;
}
