// A scheduled Container Apps Job running the bot nightly with a user-assigned managed identity.
// Grant the identity the custom role printed by `remediator permissions --scope <scope>`.
param location string = resourceGroup().location
param environmentId string
param image string = 'ghcr.io/example/aum-remediator:0.1.0'
param identityId string
param identityClientId string
param cron string = '30 2 * * *'

resource job 'Microsoft.App/jobs@2024-03-01' = {
  name: 'aum-remediator'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    environmentId: environmentId
    configuration: {
      triggerType: 'Schedule'
      replicaTimeout: 5400
      replicaRetryLimit: 0
      scheduleTriggerConfig: { cronExpression: cron, parallelism: 1, replicaCompletionCount: 1 }
    }
    template: {
      containers: [
        {
          name: 'remediator'
          image: image
          args: [ 'run', '--format', 'json' ]
          env: [ { name: 'AZURE_CLIENT_ID', value: identityClientId } ]
          resources: { cpu: json('0.5'), memory: '1Gi' }
        }
      ]
    }
  }
}
