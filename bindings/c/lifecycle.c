/*
 * lifecycle: the life of Voucherify OAuth 2.0 access tokens, step by step:
 * mint one, ask whether it is active, get tokens from a token source (as a
 * service would for its API calls), revoke the minted token and ask again.
 *
 *   VOUCHERIFY_APP_ID=... VOUCHERIFY_SECRET_KEY=... lifecycle
 *
 * Optional: VOUCHERIFY_API_URL (a full base URL) or VOUCHERIFY_CLUSTER
 * (such as "us1.api"); the default is https://api.voucherify.io.
 * Tokens are secrets: only their first 6 characters are printed.
 *
 * Exit status: 0 if every step worked, 1 otherwise.
 *
 * Build: cc -std=c99 -Iinclude lifecycle.c -Ltarget/debug -lvoucherify
 */
#include <stdio.h>

#include "voucherify.h"

/* Prints a failed step; the library keeps secrets out of its messages. */
static int failed(const char *what, vf_status status, const vf_error *err)
{
    fprintf(stderr, "%s failed: %s: %s\n", what, vf_status_str((int)status),
            err != NULL ? vf_error_message(err) : "(no details)");
    return 1;
}

/* Asks Voucherify about a token and prints the answer. */
static vf_status print_introspection(const vf_client *client, const char *token, vf_error **err)
{
    bool active = false;
    vf_token *details = NULL;
    vf_status status = vf_introspect_token(client, token, &active, &details, err);

    if (status != VF_STATUS_OK)
        return status;
    if (active)
        printf("  %.6s... is active: scope \"%s\", %lld s left\n", token,
               vf_token_scope(details), (long long)vf_token_expires_in(details));
    else
        printf("  %.6s... is not active\n", token);
    vf_token_free(details); /* NULL when inactive, which is fine */
    return VF_STATUS_OK;
}

/* Gets a token from a new token source, as a service would for its API
 * calls. A source mints on first use and then hands out the same token
 * until it is due; freeing it revokes the token it minted. */
static vf_status print_from_source(const vf_client *client, vf_error **err)
{
    vf_token_source *source = NULL;
    char *token = NULL;
    vf_status status = vf_token_source_new(client, "api", &source, err);

    if (status == VF_STATUS_OK)
        status = vf_token_source_access_token(source, &token, err);
    if (status == VF_STATUS_OK)
        printf("  the source gives %.6s...\n", token);
    vf_string_free(token);
    vf_token_source_free(source);
    return status;
}

int main(void)
{
    vf_config *config = vf_config_new();
    vf_client *client = NULL;
    vf_token *token = NULL;
    vf_error *err = NULL;
    vf_status status;
    int exit_code = 1;

    if (config == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    if ((status = vf_config_load_env(config, &err)) != VF_STATUS_OK) {
        failed("reading the environment", status, err);
        goto done;
    }
    if ((status = vf_client_new(config, &client, &err)) != VF_STATUS_OK) {
        failed("creating the client", status, err);
        goto done;
    }

    printf("1. mint a token\n");
    if ((status = vf_generate_token(client, "api", &token, &err)) != VF_STATUS_OK) {
        failed("minting", status, err);
        goto done;
    }
    printf("  %.6s... (%s, expires in %lld s)\n", vf_token_access_token(token),
           vf_token_type(token), (long long)vf_token_expires_in(token));

    printf("2. introspect it\n");
    if ((status = print_introspection(client, vf_token_access_token(token), &err)) != VF_STATUS_OK) {
        failed("introspecting", status, err);
        goto done;
    }

    printf("3. a token source\n");
    if ((status = print_from_source(client, &err)) != VF_STATUS_OK) {
        failed("using a token source", status, err);
        goto done;
    }

    printf("4. revoke the minted token\n");
    if ((status = vf_revoke_token(client, vf_token_access_token(token), &err)) != VF_STATUS_OK) {
        failed("revoking", status, err);
        goto done;
    }
    printf("  revoked\n");

    printf("5. introspect it again\n");
    if ((status = print_introspection(client, vf_token_access_token(token), &err)) != VF_STATUS_OK) {
        failed("introspecting", status, err);
        goto done;
    }
    exit_code = 0;

done:
    /* Every free accepts NULL, so one cleanup path serves every exit. */
    vf_token_free(token);
    vf_error_free(err);
    vf_client_free(client);
    vf_config_free(config);
    return exit_code;
}
