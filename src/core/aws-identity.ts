/**
 * @module core/aws-identity
 * The region and account switchyard claims where CodeDeploy's shapes carry one (ARNs, trigger
 * payloads). Nothing checks them; they only have AWS's form.
 */

/** The region in made-up ARNs and trigger payloads. */
export const LOCAL_REGION = 'local';

/** The twelve-digit account id in made-up ARNs and trigger payloads. */
export const LOCAL_ACCOUNT_ID = '000000000000';
