/*
 * revoke_token: revoke one Voucherify OAuth 2.0 access token.
 *
 *   VOUCHERIFY_APP_ID=... VOUCHERIFY_SECRET_KEY=... revoke_token TOKEN
 *
 * Optional: VOUCHERIFY_API_URL (a full base URL) or VOUCHERIFY_CLUSTER
 * (such as "us1.api"); the default is https://api.voucherify.io.
 *
 * Exit status: 0 revoked, 3 not found or already revoked, 1 any other
 * failure, 2 usage.
 *
 * Build: cc -std=c99 -Iinclude revoke_token.c -Ltarget/debug -lvoucherify
 */
#include <stdio.h>

#include "voucherify.h"

/* Prints every detail of a failure; the library keeps secrets out of it. */
static void print_error(const char *what, const vf_error *err)
{
    /* Accessors return NULL for details the answer did not carry. */
    const char *key = vf_error_key(err);
    const char *request_id = vf_error_request_id(err);

    fprintf(stderr, "%s failed: %s\n", what, vf_status_str(vf_error_status(err)));
    fprintf(stderr, "  message:     %s\n", vf_error_message(err));
    if (vf_error_http_status(err) != 0)
        fprintf(stderr, "  HTTP status: %d\n", vf_error_http_status(err));
    if (key != NULL)
        fprintf(stderr, "  key:         %s\n", key);
    if (request_id != NULL)
        fprintf(stderr, "  request_id:  %s\n", request_id);
}

int main(int argc, char **argv)
{
    vf_config *config = NULL;
    vf_client *client = NULL;
    vf_error *err = NULL;
    vf_status status;
    int exit_code = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: %s ACCESS_TOKEN\n"
                        "credentials come from VOUCHERIFY_APP_ID and "
                        "VOUCHERIFY_SECRET_KEY\n", argv[0]);
        return 2;
    }

    config = vf_config_new();
    if (config == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    status = vf_config_load_env(config, &err);
    if (status != VF_STATUS_OK) {
        print_error("reading the environment", err);
        goto done;
    }

    /* The client copies the configuration, so it could be freed right here. */
    status = vf_client_new(config, &client, &err);
    if (status != VF_STATUS_OK) {
        /* Usually a missing VOUCHERIFY_APP_ID or VOUCHERIFY_SECRET_KEY. */
        print_error("creating the client", err);
        goto done;
    }

    status = vf_revoke_token(client, argv[1], &err);
    switch (status) {
    case VF_STATUS_OK:
        printf("revoked\n");
        exit_code = 0;
        break;
    case VF_STATUS_TOKEN_NOT_FOUND:
        /* Unknown, expired or already revoked: nothing is left to do. */
        printf("not found or already revoked\n");
        exit_code = 3;
        break;
    default:
        print_error("revoking the token", err);
        break;
    }

done:
    /* All three accept NULL, so one cleanup path serves every exit. */
    vf_error_free(err);
    vf_client_free(client);
    vf_config_free(config);
    return exit_code;
}
