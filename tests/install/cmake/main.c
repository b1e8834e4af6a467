/* Revokes the token given as argv[1] with the credentials of the
 * environment (VOUCHERIFY_APP_ID, VOUCHERIFY_SECRET_KEY, VOUCHERIFY_API_URL).
 * Exits as bindings/c/revoke_token.c does, so that tests/install/run.sh can
 * tell the outcomes apart: 0 and "revoked"; 3 and "not found" for the revoke
 * 404; 2 for a bad command line; 1 for any other failure, a mismatch of the
 * header's and the library's versions included. */
#include <stdio.h>
#include <string.h>

#include <voucherify.h>

int main(int argc, char **argv)
{
    vf_config *config;
    vf_client *client = NULL;
    vf_error *err = NULL;
    vf_status status;
    int code = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: %s ACCESS_TOKEN\n", argv[0]);
        return 2;
    }
    if (strcmp(vf_version(), VF_VERSION) != 0) {
        fprintf(stderr, "header %s but library %s\n", VF_VERSION, vf_version());
        return 1;
    }
    config = vf_config_new();
    if (config == NULL)
        return 1;
    status = vf_config_load_env(config, &err);
    if (status == VF_STATUS_OK)
        status = vf_client_new(config, &client, &err);
    if (status == VF_STATUS_OK)
        status = vf_revoke_token(client, argv[1], &err);
    if (status == VF_STATUS_OK) {
        printf("revoked\n");
        code = 0;
    } else if (status == VF_STATUS_TOKEN_NOT_FOUND) {
        printf("not found\n");
        code = 3;
    } else {
        fprintf(stderr, "%s: %s\n", vf_status_str(status), vf_error_message(err));
    }
    vf_error_free(err);
    vf_client_free(client);
    vf_config_free(config);
    return code;
}
