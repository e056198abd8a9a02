// aum-remediator as a scheduled Container Apps Job, everything it needs in one deployment:
// a user-assigned identity with the custom role `remediator permissions` prints (role.json) and,
// because that role may write role assignments, an ABAC condition on its assignment that limits
// the roles it can grant (role-assignment-condition.txt); the settings file mounted at /config;
// reports written to an Azure Files share of a storage account; logs to Log Analytics.
//
//   az deployment group create -g rg-aum-remediator -f infra/bicep/main.bicep \
//     -p image=<registry>/aum-remediator@sha256:<digest> settingsYaml=@remediator.yaml
//
// Exit status semantics (Container Apps marks an execution Failed for any non-zero exit):
//   0  nothing left to fix, or changes left for the next run (a plan trimmed by max_changes, a
//      change gone stale): --pending-exit-code 0 makes "pending" a success for a scheduled job
//   1  error (bad settings, auth): nothing was changed
//   3  the apply finished but at least one change failed (see the report and the logs)
//   4  changes were applied but the check afterwards could not read the tenant
targetScope = 'resourceGroup'

@description('Region of the job, its environment, identity, storage and logs.')
param location string = resourceGroup().location

@description('The image by digest, e.g. myregistry.azurecr.io/aum-remediator@sha256:<64 hex> (infra/github/image.yml builds it).')
param image string

@description('The settings file the job runs with (YAML): scope, enabled playbooks, guardrails. Set a scope: without one the bot covers every subscription its identity can read.')
param settingsYaml string

@description('When the job runs (cron, UTC).')
param schedule string = '30 2 * * *'

@description('The subscription the bot reads and fixes: the custom role and its conditioned assignment are created there.')
param targetSubscriptionId string = subscription().subscriptionId

@description('Plan only: report what would change, change nothing.')
param dryRun bool = false

@description('Prefix of every resource name: lowercase letters and digits (the storage account name starts with it).')
@minLength(3)
@maxLength(12)
param namePrefix string = 'aumremed'

var role = loadJsonContent('role.json')
var condition = loadTextContent('role-assignment-condition.txt')
var runArgs = [
  '--log-format'
  'json'
  '--progress'
  'plain'
  '--pending-exit-code'
  '0'
  'run'
  '--config'
  '/config/remediator.yaml'
  '--format'
  'json'
  '--out'
  '/reports/latest.json'
  '--report'
  'html=/reports/latest.html'
  '--report'
  'junit=/reports/latest.xml'
  '--report'
  'markdown=/reports/latest.md'
]

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 90
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_59: a Consumption environment without a VNet mounts Azure Files over the public endpoint
  // checkov:skip=CKV_AZURE_35: same reason: the environment is not a trusted service the storage firewall lets in
  // checkov:skip=CKV_AZURE_43: the name is take(namePrefix + uniqueString(), 24), lowercase letters and digits, which checkov cannot evaluate
  name: take('${namePrefix}${uniqueString(resourceGroup().id)}', 24)
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_GRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Container Apps mounts Azure Files with the account key; nothing else uses it.
    allowSharedKeyAccess: true
    publicNetworkAccess: 'Enabled'
  }
}

resource files 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource reportsShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: files
  name: 'reports'
  properties: { shareQuota: 5 }
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${namePrefix}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

resource reportsStorage 'Microsoft.App/managedEnvironments/storages@2024-03-01' = {
  parent: environment
  name: 'reports'
  properties: {
    azureFile: {
      accountName: storage.name
      accountKey: storage.listKeys().keys[0].value
      shareName: reportsShare.name
      accessMode: 'ReadWrite'
    }
  }
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${namePrefix}-identity'
  location: location
}

module access 'role.bicep' = {
  name: '${namePrefix}-access'
  scope: subscription(targetSubscriptionId)
  params: {
    principalId: identity.properties.principalId
    actions: role.Actions
    condition: condition
  }
}

resource job 'Microsoft.App/jobs@2024-03-01' = {
  name: '${namePrefix}-job'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  dependsOn: [ access ]
  properties: {
    environmentId: environment.id
    configuration: {
      triggerType: 'Schedule'
      replicaTimeout: 5400
      // A retry would re-run a whole estate; the next scheduled run picks up what is left.
      replicaRetryLimit: 0
      scheduleTriggerConfig: {
        cronExpression: schedule
        parallelism: 1
        replicaCompletionCount: 1
      }
      secrets: [
        { name: 'settings', value: settingsYaml }
      ]
    }
    template: {
      containers: [
        {
          name: 'remediator'
          image: image
          args: dryRun ? concat(runArgs, [ '--dry-run' ]) : runArgs
          env: [
            { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
          ]
          resources: { cpu: json('1.0'), memory: '2Gi' }
          volumeMounts: [
            { volumeName: 'settings', mountPath: '/config' }
            { volumeName: 'reports', mountPath: '/reports' }
          ]
        }
      ]
      volumes: [
        {
          name: 'settings'
          storageType: 'Secret'
          secrets: [ { secretRef: 'settings', path: 'remediator.yaml' } ]
        }
        {
          name: 'reports'
          storageType: 'AzureFile'
          storageName: reportsStorage.name
        }
      ]
    }
  }
}

output jobName string = job.name
output identityClientId string = identity.properties.clientId
output identityPrincipalId string = identity.properties.principalId
output reportsShare string = '${storage.name}/${reportsShare.name}'
