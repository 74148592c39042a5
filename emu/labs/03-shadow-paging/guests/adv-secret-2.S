# adv-secret-2.S: adv-secret.S built as guest 2, to run beside guest 1 (its
# secret is "SECRET-OF-GUEST2"; it looks for guest 1's).
    .equ GUEST_ID, 2
    .include "adv-secret.S"
