/*  rc_ids.c - validation of names and labels, host name lookup. */
#include "rc_ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool
rc_name_valid (const char *text)
{
    if (!text)
        return false;
    size_t len = strlen (text);
    if (len == 0 || len > RC_NAME_MAX)
        return false;
    if (strcmp (text, ".") == 0 || strcmp (text, "..") == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || c == '.' || c == '_' || c == '+' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool
rc_run_once_name_valid (const char *text)
{
    size_t len = text ? strlen (text) : 0;
    if (len == 0 || len > RC_RUN_ONCE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
              || c == '-'))
            return false;
    }
    return true;
}

int
rc_labels_parse (const char *text, rc_label_t *out, size_t max, char *err, size_t errlen)
{
    int count = 0;
    if (!text || !*text)
        return 0;
    char *copy = strdup (text);
    if (!copy) {
        snprintf (err, errlen, "out of memory");
        return -1;
    }
    char *save = NULL;
    for (char *item = strtok_r (copy, ",", &save); item; item = strtok_r (NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        char *eq = strchr (item, '=');
        if (!eq) {
            snprintf (err, errlen, "label '%s' is not key=value", item);
            count = -1;
            goto out;
        }
        *eq = '\0';
        const char *value = eq + 1;
        if (!rc_name_valid (item) || !rc_name_valid (value)) {
            snprintf (err, errlen, "label '%s=%s' must be [A-Za-z0-9._+-]{1,%d} on both sides",
                      item, value, RC_NAME_MAX);
            count = -1;
            goto out;
        }
        for (int i = 0; i < count; i++)
            if (strcmp (out[i].key, item) == 0) {
                snprintf (err, errlen, "label '%s' given twice", item);
                count = -1;
                goto out;
            }
        if ((size_t)count == max) {
            snprintf (err, errlen, "more than %zu labels", max);
            count = -1;
            goto out;
        }
        snprintf (out[count].key, sizeof out[count].key, "%s", item);
        snprintf (out[count].value, sizeof out[count].value, "%s", value);
        count++;
    }
out:
    free (copy);
    return count;
}

char *
rc_hostname (void)
{
    char buf[256] = "";
    if (gethostname (buf, sizeof buf - 1) != 0 || !buf[0])
        return strdup ("localhost");
    char *dot = strchr (buf, '.');
    if (dot)
        *dot = '\0';
    return strdup (buf);
}
